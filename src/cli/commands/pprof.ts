import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Profile } from 'pprof-format';
import { RuntimeError, UsageError } from '../../errors.js';
import { encodeProfile } from '../../profile/builder.js';
import { flameGraphHtml } from '../../profile/flame.js';
import { parseProfile } from '../../profile/parse.js';
import { headline, profileKind } from '../../profile/summary.js';
import { sampleTypeInfo, topTable } from '../../profile/top.js';
import type { CliIO, Command } from '../command.js';
import { openOutput } from '../output.js';

const SUBCOMMANDS = ['top', 'flame', 'convert'] as const;

/** Reads a profile file: gzipped/plain pprof, or V8's .cpuprofile / .heapprofile JSON. */
export async function readProfileFile(path: string): Promise<Profile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RuntimeError(e.code === 'ENOENT' ? `${path}: no such file` : e.code === 'EISDIR' ? `${path}: is a directory` : `${path}: cannot read (${e.code ?? e.message})`);
  }
  return parseProfile(bytes, path, { allowV8Json: true });
}

/** The kind a file name hints at (Go's block and mutex profiles look alike inside). */
function kindFromName(path: string, p: Profile): ReturnType<typeof profileKind> {
  const k = profileKind(p);
  if ((k === 'block' || k === 'mutex') && /mutex/i.test(basename(path))) return 'mutex';
  return k;
}

async function writeOut(sub: string, path: string, io: CliIO, ...data: Array<string | Uint8Array>): Promise<void> {
  const out = await openOutput(`pprof ${sub}`, path, io);
  for (const d of data) out.stream.write(d);
  await out.close();
}

/** `tailprobe pprof top|flame|convert FILE`: thin shells over src/profile. */
export const command: Command = {
  spec: {
    name: 'pprof',
    summary: 'Read any pprof file (or V8 .cpuprofile/.heapprofile): top table, flame graph page, conversion',
    usage: 'top|flame|convert FILE [flags]',
    description: [
      'top FILE      the top functions, flat and cumulative, like go tool pprof -top, and the finding',
      '              (GC share of CPU, top allocating function, most contended call site)',
      'flame FILE    a self-contained flame graph page (-o flame.html); no network needed to view it',
      'convert FILE  V8 .cpuprofile / .heapprofile JSON (node --cpu-prof, DevTools) to pprof (-o out.pb.gz)',
      'FILE may be gzipped or plain pprof protobuf (Go, tailprobe agent) or V8 JSON.',
    ].join('\n'),
    flags: [
      { name: 'n', type: 'int', default: 20, help: 'top: rows shown (0: all)' },
      { name: 'cum', type: 'bool', help: 'top: sort by cumulative value' },
      { name: 'sample_index', aliases: ['sample-index'], type: 'string', value: 'TYPE', help: 'Sample type to show (e.g. alloc_space, inuse_space, delay, contentions)' },
      { name: 'output', aliases: ['o'], type: 'string', value: 'FILE', help: 'Output file (top and flame: default stdout; convert: required)' },
      { name: 'title', type: 'string', help: 'flame: page title' },
    ],
    examples: [
      'tailprobe pprof top prof/cpu.pb.gz -n=20',
      'tailprobe pprof top prof/heap.pb.gz -sample_index=alloc_space -cum',
      'tailprobe pprof flame prof/cpu.pb.gz -o flame.html',
      'node --cpu-prof server.js; tailprobe pprof convert CPU.*.cpuprofile -o cpu.pb.gz',
    ],
  },
  async run(args, io) {
    const [sub, file, ...extra] = args.positionals;
    if (!sub) throw new UsageError(`pprof: which one? ${SUBCOMMANDS.join(', ')} (e.g. tailprobe pprof top cpu.pb.gz)`);
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UsageError(`pprof: unknown subcommand "${sub}" (want ${SUBCOMMANDS.join(', ')})`);
    }
    if (!file) throw new UsageError(`pprof ${sub}: no profile file given`);
    if (extra.length) throw new UsageError(`pprof ${sub}: one file at a time (got also "${extra[0]}")`);
    const p = await readProfileFile(file);
    const sampleType = args.string('sample_index') || undefined;
    if (sampleType) {
      try {
        sampleTypeInfo(p, sampleType);
      } catch (err) {
        throw new UsageError(`pprof: ${file}: ${(err as Error).message}`);
      }
    }
    switch (sub) {
      case 'top': {
        await writeOut(sub, args.string('output'), io, topTable(p, { n: args.number('n'), cum: args.bool('cum'), sampleType }), `${headline(p, kindFromName(file, p))}\n`);
        return 0;
      }
      case 'flame': {
        const html = flameGraphHtml(p, { title: args.has('title') ? args.string('title') : `${basename(file)}: flame graph`, sampleType });
        await writeOut(sub, args.string('output'), io, html);
        return 0;
      }
      case 'convert': {
        const out = args.string('output');
        if (!out) throw new UsageError('pprof convert: -o FILE is required (e.g. -o cpu.pb.gz)');
        await writeOut(sub, out, io, encodeProfile(p));
        return 0;
      }
    }
    return 2;
  },
};
