import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { listen } from '../helpers/servers.js';

/** The help line of flag -name in `tailprobe <command> -h`, with its continuation lines. */
function helpOf(help: string, name: string): string {
  const lines = help.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^  -${name}[ ,]`).test(l));
  assert.ok(i >= 0, `no -${name} in the help`);
  let out = lines[i]!;
  for (let j = i + 1; j < lines.length && /^ {20,}\S/.test(lines[j]!); j++) out += `\n${lines[j]}`;
  return out.replace(/\s+/g, ' '); // the help's columns are as wide as each command's longest flag
}

test("sweep's attack flags are attack's own: same names, defaults and help", async () => {
  const [a, s] = await Promise.all([runCli(['attack', '-h']), runCli(['sweep', '-h'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(s.code, 0, s.stderr);
  const shared = ['targets', 'format', 'header', 'timeout', 'connections', 'max-connections', 'workers', 'keepalive', 'http2', 'h2c', 'insecure', 'name', 'quiet'];
  for (const f of shared) assert.equal(helpOf(s.stdout.toString(), f), helpOf(a.stdout.toString(), f), `-${f}`);
});

test('sweep -duration is -step-duration, as a vegeta user types it', async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  try {
    const r = await runCli(['sweep', '-rates=20', '-duration=500ms', '-warmup=0s', '-json', '-q'], { input: `GET ${srv.url}/\n` });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout.toString());
    assert.equal(doc.stepDuration, 500e6);
    assert.equal(doc.steps.length, 1);
    assert.equal(doc.steps[0].requests, 10);
  } finally {
    await srv.close();
  }
});

test('sweep checks -format as attack does: one usage line, exit 2', async () => {
  const r = await runCli(['sweep', '-rates=20', '-format=yaml'], { input: '' });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'tailprobe: sweep: invalid value "yaml" for flag -format (want http or json)\n');
});
