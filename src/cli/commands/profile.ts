import { RuntimeError, UsageError } from '../../errors.js';
import { captureProfiles, CaptureError, parseProfileTypes, type CapturedProfile } from '../../profile/capture.js';
import { describeWindowEvents } from '../../profile/during-attack.js';
import { probeServer } from '../../profile/fetch.js';
import { headline } from '../../profile/summary.js';
import { topTable } from '../../profile/top.js';
import { wallClockNs } from '../../time/wall.js';
import type { Command } from '../command.js';

/** `tailprobe profile`: a thin shell over captureProfiles (src/profile). */
export const command: Command = {
  spec: {
    name: 'profile',
    summary: 'Capture CPU/heap/lock profiles from a Go or Node service (under load) and say what they show',
    usage: '-url=URL [flags]',
    description: [
      'Fetches profiles from /debug/pprof: Go services with net/http/pprof, and Node services',
      'running tailprobe/agent (node --import tailprobe/agent server.js). The windowed ones',
      '(cpu, allocs, block, mutex; heap too on Node) run at the same time over -seconds; run it',
      'while the service is under load (tailprobe attack, or attack -profile=URL to do both).',
      'Writes <type>.pb.gz into -out (readable by go tool pprof, speedscope and tailprobe pprof), and',
      'prints for each the top functions (flat and cumulative) and its finding: the GC share of',
      'the CPU, the top allocating function, the most contended call site.',
    ].join('\n'),
    flags: [
      { name: 'url', type: 'string', value: 'URL', help: 'The service\'s pprof address, e.g. http://127.0.0.1:6060 (or .../debug/pprof/)' },
      { name: 'types', type: 'string', default: 'cpu,heap,block,mutex', value: 'LIST', help: 'Profiles to take: cpu, heap, allocs, block, mutex, goroutine' },
      { name: 'seconds', type: 'int', default: 30, value: 'N', help: 'Length of the profiling window' },
      { name: 'out', aliases: ['o'], type: 'string', default: 'profiles', value: 'DIR', help: 'Directory for the .pb.gz files' },
      { name: 'token', type: 'string', value: 'TOKEN', help: 'Agent token (default: $TAILPROBE_AGENT_TOKEN)' },
      { name: 'n', type: 'int', default: 10, help: 'Rows in each top table (0: none)' },
      { name: 'cum', type: 'bool', help: 'Sort the top tables by cumulative value' },
      { name: 'timeout', type: 'duration', default: '30s', help: 'How long to wait for the service to answer (for a profile: past its window)' },
    ],
    examples: [
      'tailprobe profile -url=http://127.0.0.1:6060 -types=cpu,heap,block,mutex -seconds=30 -out=prof/',
      'go tool pprof -top prof/cpu.pb.gz',
      'tailprobe pprof flame prof/cpu.pb.gz -o flame.html',
    ],
  },
  async run(args, io) {
    const url = args.string('url') || args.positionals[0] || '';
    if (!url) throw new UsageError("profile: -url is required (e.g. -url=http://127.0.0.1:6060)");
    if (args.positionals.length > (args.string('url') ? 0 : 1)) {
      throw new UsageError(`profile: unexpected argument "${args.positionals.at(-1)}"`);
    }
    const types = parseProfileTypes(args.string('types'));
    const seconds = args.number('seconds');
    if (seconds < 1) throw new UsageError('profile: -seconds must be at least 1');
    const n = args.number('n');
    const token = args.string('token') || io.env.TAILPROBE_AGENT_TOKEN || undefined;
    const outDir = args.string('out');

    const timeoutNs = args.number('timeout');
    if (!(timeoutNs >= 1e6)) throw new UsageError('profile: -timeout must be at least 1ms');
    // -timeout bounds every request to the service: the probe and the events as well as the profiles.
    const timeoutMs = timeoutNs / 1e6;
    const server = await probeServer(url, { token, timeoutMs });
    io.stderr.write(
      `profiling ${server.base} (${server.kind === 'agent' ? `tailprobe agent ${server.agentVersion}` : 'Go net/http/pprof'}) for ${seconds}s: ${types.join(', ')}\n`,
    );
    const since = wallClockNs();
    const print = (c: CapturedProfile) => {
      const lines = [`== ${c.type}: ${c.file}`];
      if (n > 0) lines.push(topTable(c.profile, { n, cum: args.bool('cum') }).trimEnd());
      lines.push(headline(c.profile, c.type));
      io.stdout.write(`${lines.join('\n')}\n\n`);
    };
    let failures: Error[] = [];
    try {
      await captureProfiles({ url, types, seconds, outDir, token, server, graceMs: timeoutMs, onProfile: print });
    } catch (err) {
      if (!(err instanceof CaptureError)) throw err;
      failures = err.failures.map((f) => f.error);
    }
    if (server.kind === 'agent') {
      try {
        io.stdout.write(`${await describeWindowEvents(url, since, wallClockNs(), token, { timeoutMs })}\n`);
      } catch (err) {
        io.stderr.write(`tailprobe: ${(err as Error).message}\n`);
      }
    }
    if (failures.length === 1) throw failures[0] instanceof RuntimeError ? failures[0] : new RuntimeError(failures[0]!.message);
    if (failures.length > 1) {
      for (const f of failures) io.stderr.write(`tailprobe: ${f.message}\n`);
      return 1;
    }
    io.stderr.write(`open them with: go tool pprof -http=: ${outDir}/<type>.pb.gz, or tailprobe pprof flame FILE -o flame.html\n`);
    return 0;
  },
};
