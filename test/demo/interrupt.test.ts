import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DemoSummary } from '../../src/demo/summary.js';
import { CLI, REPO_ROOT, tempDir } from '../helpers/paths.js';
import { alive } from '../helpers/servers.js';

/** Ctrl-C during the demo: the service is stopped, what was measured is kept, exit 130. */

test('SIGINT during an attack: the service goes, the partial run and summary.json stay', { timeout: 60_000 }, async () => {
  const out = join(tempDir('tailprobe-demo-int-'), 'demo');
  const child = spawn(process.execPath, [CLI, 'demo', '-quick', '-rate=100', '-entries=20000', `-out=${out}`], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no attack started:\n${stdout}\n${stderr}`)), 45_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/Attacking GET/.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const pid = Number(/; pid (\d+),/.exec(stdout)![1]);
  assert.equal(alive(pid), true, 'the service runs during the attack');
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGINT');
  const code = await exit;
  assert.equal(code, 130, `${stdout}\n${stderr}`);
  assert.equal(alive(pid), false, 'the service was stopped');
  assert.match(stdout, /Interrupted: the service is stopped; what was measured so far is kept\./);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DemoSummary;
  assert.equal(summary.status, 'interrupted');
  assert.ok(existsSync(join(out, '1-broken.bin')), 'the partial results file');
  assert.equal(summary.runs.length, 1);
  assert.ok(summary.runs[0]!.requests > 0, 'what was measured before the interrupt is in the summary');
  rmSync(dirname(out), { recursive: true, force: true });
});
