import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { joinClientModules } from '../../src/plot/html.js';
import { REPO_ROOT, tempDir } from '../helpers/paths.js';

test('the page script is the client modules joined, dependencies first, with no import or export left', () => {
  const js = joinClientModules(join(REPO_ROOT, 'dist', 'src', 'plot', 'client'), 'app.js');
  const files = [...js.matchAll(/^\/\/ ([\w-]+\.js)$/gm)].map((m) => m[1]);
  assert.deepEqual(new Set(files), new Set(['data.js', 'format.js', 'chart.js', 'latency.js', 'events.js', 'breakdown.js', 'throughput.js', 'distribution.js', 'overlay.js', 'sweep.js', 'app.js']));
  assert.ok(files.indexOf('data.js') < files.indexOf('chart.js') && files.indexOf('chart.js') < files.indexOf('latency.js'));
  assert.equal(files.at(-1), 'app.js');
  assert.doesNotMatch(js, /^(import|export)\b/m);
});

test('joining modules that declare the same top-level name, or import each other in a cycle, is an error', () => {
  const dir = tempDir('tailprobe-client-');
  writeFileSync(join(dir, 'a.js'), "import { x } from './b.js';\nexport const y = x;\nconst x = 2;\n");
  writeFileSync(join(dir, 'b.js'), 'export const x = 1;\n');
  assert.throws(() => joinClientModules(dir, 'a.js'), /x is declared by both b\.js and a\.js/);
  writeFileSync(join(dir, 'c.js'), "import { d } from './d.js';\nexport const c = 1;\n");
  writeFileSync(join(dir, 'd.js'), "import { c } from './c.js';\nexport const d = 1;\n");
  assert.throws(() => joinClientModules(dir, 'c.js'), /import cycle c\.js -> d\.js -> c\.js/);
});
