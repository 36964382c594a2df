import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './helpers/paths.js';

/**
 * The layers of docs/architecture.md, lowest first. A file may import its own folder, any folder of a
 * lower layer, and another folder of its own layer as long as no folder cycle forms. Nothing below
 * src/cli imports src/cli. A new folder must be placed here (and in docs/architecture.md) on purpose.
 */
const LAYERS: string[][] = [
  ['errors', 'units', 'time'],
  ['pacer', 'targets', 'results', 'metrics'],
  ['attack', 'agent', 'sync', 'profile', 'export', 'bench'],
  ['report', 'compare', 'sweep', 'slo', 'plot', 'explain', 'distribute'],
  ['demo'],
  ['cli'],
];
/** src/index.ts, the package root: the curated library API. It may point at any library folder, never at the CLI. */
const ROOT_API = 'index';

const SRC = join(REPO_ROOT, 'src');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The folder directly under src/ a file belongs to; a file at the top (errors.ts, index.ts) is its own. */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length === 1 ? parts[0]!.replace(/\.(ts|js)$/, '') : parts[0]!;
}

interface Import {
  from: string;
  to: string;
  file: string;
  spec: string;
}

/**
 * Every relative import of every file under src: `import ... from`, `export ... from` (type-only
 * ones too: a type cycle is still a cycle in the design), side-effect imports and `import('...')`.
 * Statements are matched only at the start of a line, so examples inside doc comments are not read.
 */
export function srcImports(): Import[] {
  return relativeImports(SRC)
    .filter((i) => i.target.startsWith(SRC + sep))
    .map((i) => ({ from: folderOf(i.file), to: folderOf(i.target), file: relative(REPO_ROOT, i.file), spec: i.spec }));
}

/** Every relative import of every .ts file under `dir`, resolved to the absolute path it names. */
function relativeImports(dir: string): Array<{ file: string; spec: string; target: string }> {
  const out: Array<{ file: string; spec: string; target: string }> = [];
  const statement = /^(?:import|export)\b[^'"`;()=]*?(?:\bfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/gm;
  const dynamic = /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const file of sources(dir)) {
    const text = readFileSync(file, 'utf8');
    for (const re of [statement, dynamic]) {
      for (const m of text.matchAll(re)) out.push({ file, spec: m[1]!, target: resolve(dirname(file), m[1]!) });
    }
  }
  return out;
}

function layerOf(folder: string): number {
  return LAYERS.findIndex((l) => l.includes(folder));
}

test('every folder under src has a place in the layers of docs/architecture.md', () => {
  const folders = new Set(sources(SRC).map(folderOf));
  folders.delete(ROOT_API);
  const unplaced = [...folders].filter((f) => layerOf(f) < 0);
  assert.deepEqual(unplaced, [], `place these in LAYERS (test/architecture.test.ts) and in docs/architecture.md: ${unplaced.join(', ')}`);
});

test('the import scan sees the imports it checks (static, type-only, multi-line and dynamic)', () => {
  const all = srcImports();
  // Anchors that exist for reasons of their own; if one moves, pick another: the point is that the
  // scan is not vacuous.
  assert.ok(all.some((i) => i.from === 'cli' && i.to === 'attack'), 'cli -> attack');
  assert.ok(all.some((i) => i.from === 'metrics' && i.to === 'results'), 'metrics -> results');
  assert.ok(all.some((i) => i.from === 'agent' && i.to === 'profile' && i.file.endsWith('handler.ts')), "agent's dynamic import('../profile/...')");
  assert.ok(all.length > 300, `only ${all.length} imports found`);
});

test('imports point down the layers, never up, and nothing below src/cli imports src/cli', () => {
  const up = srcImports()
    .filter((i) => i.from !== i.to && i.from !== ROOT_API)
    .filter((i) => layerOf(i.to) > layerOf(i.from))
    .map((i) => `${i.file} imports ${i.spec} (${i.from}, layer ${layerOf(i.from)} -> ${i.to}, layer ${layerOf(i.to)})`);
  assert.deepEqual(up, []);
});

test('src imports only src; bench/ and support/ never import test code', () => {
  const outside = (dir: string, allowed: string[]) =>
    relativeImports(join(REPO_ROOT, dir))
      .filter((i) => !allowed.some((a) => i.target.startsWith(join(REPO_ROOT, a) + sep)))
      .map((i) => `${relative(REPO_ROOT, i.file)} imports ${i.spec}`);
  assert.deepEqual(outside('src', ['src']), []);
  assert.deepEqual(outside('bench', ['bench', 'src', 'support']), []);
  assert.deepEqual(outside('support', ['support', 'src']), []);
});

test('the package root names each export (no export *) and reaches no CLI code', () => {
  const root = readFileSync(join(SRC, 'index.ts'), 'utf8');
  assert.doesNotMatch(root, /^export \*/m, 'src/index.ts is a curated list: name what the library offers');
  const cli = srcImports().filter((i) => i.from === ROOT_API && i.to === 'cli').map((i) => `${i.file} imports ${i.spec}`);
  assert.deepEqual(cli, []);
});

test("every name the README and docs import from 'tailprobe' is exported by the package root", async () => {
  const root: Record<string, unknown> = await import(pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'index.js')).href);
  const docs = [join(REPO_ROOT, 'README.md'), ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(REPO_ROOT, 'docs', f))];
  const missing: string[] = [];
  let seen = 0;
  for (const doc of docs) {
    for (const m of readFileSync(doc, 'utf8').matchAll(/import\s*\{([^}]*)\}\s*from\s*'tailprobe'/g)) {
      for (const name of m[1]!.split(',').map((n) => n.trim()).filter((n) => n && !n.startsWith('type '))) {
        seen++;
        if (!(name in root)) missing.push(`${relative(REPO_ROOT, doc)}: ${name}`);
      }
    }
  }
  assert.ok(seen > 20, `only ${seen} names found in the docs' examples`);
  assert.deepEqual(missing, []);
});

test('folders of one layer import each other without a cycle', () => {
  const edges = new Map<string, Map<string, string>>();
  for (const i of srcImports()) {
    if (i.from === i.to || i.from === ROOT_API || layerOf(i.from) !== layerOf(i.to)) continue;
    if (!edges.has(i.from)) edges.set(i.from, new Map());
    if (!edges.get(i.from)!.has(i.to)) edges.get(i.from)!.set(i.to, `${i.file} imports ${i.spec}`);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    path.push(f);
    for (const [to, why] of edges.get(f) ?? []) {
      if (state.get(to) === 'open') {
        const loop = [...path.slice(path.indexOf(to)), to];
        cycles.push(`${loop.join(' -> ')} (closing edge: ${why})`);
      } else if (!state.has(to)) visit(to);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of [...edges.keys()].sort()) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});
