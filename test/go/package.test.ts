import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/paths.js';
import { GO_CANDIDATES, requireTool } from '../helpers/tools.js';

/**
 * The Go side of the project runs in the project's test command: `go vet` and `go test` of the
 * companion package (go/), and `go vet` of the Go lookup service (examples/lookup-go), with the
 * system's Go (1.19 here). Offline: no module proxy, no toolchain download.
 */

const GO_ENV: NodeJS.ProcessEnv = { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GO111MODULE: 'on', CGO_ENABLED: '0' };
// Go needs a build cache; without HOME (some CI sandboxes) it has no default one.
if (!GO_ENV.GOCACHE && !GO_ENV.HOME && !GO_ENV.XDG_CACHE_HOME) GO_ENV.GOCACHE = join(tmpdir(), 'tailprobe-go-cache');

function go(bin: string, args: string[], cwd: string): { code: number | null; out: string } {
  const r = spawnSync(bin, args, { cwd, env: GO_ENV, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

test('go vet and go test pass for the Go companion package (go/)', { timeout: 300_000 }, (t) => {
  const bin = requireTool(t, 'go', GO_CANDIDATES, 'golang-go');
  if (!bin) return;
  const dir = join(REPO_ROOT, 'go');
  const vet = go(bin, ['vet', './...'], dir);
  assert.equal(vet.code, 0, `go vet ./... in go/:\n${vet.out}`);
  const tests = go(bin, ['test', '-count=1', './...'], dir);
  assert.equal(tests.code, 0, `go test ./... in go/:\n${tests.out}`);
  assert.match(tests.out, /^ok\s+github\.com\/tailprobe\/tailprobe\/go\s/m);
});

test('go vet passes for the Go lookup service (examples/lookup-go), built against go/', { timeout: 300_000 }, (t) => {
  const bin = requireTool(t, 'go', GO_CANDIDATES, 'golang-go');
  if (!bin) return;
  const vet = go(bin, ['vet', './...'], join(REPO_ROOT, 'examples', 'lookup-go'));
  assert.equal(vet.code, 0, `go vet ./... in examples/lookup-go:\n${vet.out}`);
});

test("the Go package's version is the project's (X-Tailprobe-Agent: go/VERSION)", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const src = readFileSync(join(REPO_ROOT, 'go', 'tailprobe.go'), 'utf8');
  const m = /^const Version = "([^"]+)"/m.exec(src);
  assert.ok(m, 'go/tailprobe.go declares const Version');
  assert.equal(m[1], pkg.version);
});
