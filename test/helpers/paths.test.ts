import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

test('a temp dir from tempDir() is gone once the process that made it exits', () => {
  const helper = pathToFileURL(new URL('./paths.js', import.meta.url).pathname).href;
  const script = `import { tempDir } from '${helper}'; import { writeFileSync } from 'node:fs';
    const d = tempDir('tailprobe-cleanup-'); writeFileSync(d + '/f', 'x'); console.log(d);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const dir = r.stdout.trim();
  assert.match(dir, /tailprobe-cleanup-/);
  assert.equal(existsSync(dir), false, `${dir} left behind`);
});
