import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuntimeError } from '../errors.js';
import { registry, type Benchmark } from './registry.js';

/**
 * Loading a bench file: a module whose top level calls bench(...).
 *
 * .js/.mjs/.cjs are imported as they are. TypeScript files (.ts/.mts) are run, in this order:
 * 1. their compiled twin, if the nearest tsconfig.json maps them to an existing .js (outDir/rootDir):
 *    `tailprobe bench bench/lookup.bench.ts` in a compiled project runs dist/bench/lookup.bench.js;
 * 2. directly, on a Node that strips types (22.18+, or 22.6+ with --experimental-strip-types);
 * 3. otherwise a one-line error saying how to get one of those.
 */
export interface LoadedBenchFile {
  /** The file that was imported (the compiled twin for a .ts, or the file itself). */
  module: string;
  benchmarks: Benchmark[];
  /** A remark for the user (e.g. which compiled file ran, or that it looks stale). */
  note?: string;
}

export async function loadBenchFile(file: string): Promise<LoadedBenchFile> {
  const path = resolve(file);
  if (!existsSync(path)) throw new RuntimeError(`no such file: ${file}`);
  let module = path;
  let note: string | undefined;
  if (/\.[mc]?ts$/.test(path)) {
    const twin = compiledTwin(path);
    if (twin !== null) {
      module = twin;
      note = `running ${relative(process.cwd(), twin) || twin} (compiled from ${file})`;
      if (statSync(path).mtimeMs > statSync(twin).mtimeMs + 1) note += `; it is older than ${file}: compile first (tsc)`;
    } else if (!canStripTypes()) {
      throw new RuntimeError(
        `${file}: Node ${process.version} cannot run TypeScript; compile it (tsc) and pass the .js, ` +
          'or use Node >= 22.18 (22.6+ with NODE_OPTIONS=--experimental-strip-types)',
      );
    }
  }
  const url = pathToFileURL(module).href;
  const reg = registry();
  const cached = reg.byFile.get(url);
  if (cached) return { module, benchmarks: cached, note };
  const collected: Benchmark[] = [];
  const prev = reg.collecting;
  reg.collecting = collected;
  try {
    await import(url);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new RuntimeError(`${file}: ${msg.split('\n')[0]}`);
  } finally {
    reg.collecting = prev;
  }
  reg.byFile.set(url, collected);
  return { module, benchmarks: collected, note };
}

function canStripTypes(): boolean {
  const ts = (process.features as { typescript?: string | false }).typescript;
  if (ts === 'strip' || ts === 'transform') return true;
  // Node 22.6-22.9 had the flag but not process.features.typescript.
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return ts === undefined && flags.some((f) => f === '--experimental-strip-types' || f === '--experimental-transform-types');
}

/** The .js tsc would write for a .ts, per the nearest tsconfig.json, if it exists. */
export function compiledTwin(tsPath: string): string | null {
  for (let dir = dirname(tsPath); ; dir = dirname(dir)) {
    const cfgPath = join(dir, 'tsconfig.json');
    if (existsSync(cfgPath)) {
      const opts = readCompilerOptions(cfgPath);
      if (!opts?.outDir) return null;
      const outDir = resolve(dir, opts.outDir);
      const rootDir = resolve(dir, opts.rootDir ?? '.');
      const rel = relative(rootDir, tsPath);
      if (rel.startsWith('..')) return null;
      const ext = extname(tsPath);
      const js = join(outDir, rel.slice(0, -ext.length) + (ext === '.mts' ? '.mjs' : ext === '.cts' ? '.cjs' : '.js'));
      return existsSync(js) ? js : null;
    }
    if (dirname(dir) === dir) return null;
  }
}

function readCompilerOptions(cfgPath: string): { outDir?: string; rootDir?: string } | null {
  try {
    const cfg = JSON.parse(stripJsonComments(readFileSync(cfgPath, 'utf8'))) as { compilerOptions?: { outDir?: string; rootDir?: string } };
    return cfg.compilerOptions ?? null;
  } catch {
    return null;
  }
}

/** tsconfig.json allows comments and trailing commas; strip them outside strings. */
function stripJsonComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2);
      if (i < 0) break;
      i++;
    } else out += c;
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}
