import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { runCli } from '../helpers/cli.js';
import { CLI, tempDir } from '../helpers/paths.js';
import { listen } from '../helpers/servers.js';
import { INDEX_ENV, podResources, RESULTS_MARKER, TARGETS_PATH } from '../../src/distribute/index.js';
import { readMetrics } from '../../src/metrics/index.js';

interface Manifest {
  kind: string;
  items: Array<Record<string, any>>;
}

/** Validates each item with the JSON schemas of the Kubernetes API that kubernetes-models ships (from the API's OpenAPI spec). */
function validate(m: Manifest): void {
  assert.equal(m.kind, 'List');
  for (const item of m.items) {
    if (item.kind === 'Job') new Job(item as any).validate();
    else if (item.kind === 'ConfigMap') new ConfigMap(item as any).validate();
    else assert.fail(`unexpected kind ${item.kind}`);
  }
}

async function generate(dir: string, extra: string[]): Promise<Manifest> {
  const targets = join(dir, 'targets.txt');
  writeFileSync(targets, 'GET http://127.0.0.1:9/d/10\n\nGET http://127.0.0.1:9/d/30\n');
  const r = await runCli(['k8s', 'job', '-shards=4', '-image=registry.example/tailprobe:0.1.0', `-targets=${targets}`, ...extra], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.toString()) as Manifest;
}

test('the generated Job manifest passes the Kubernetes API schema (kubernetes-models), for logs and volume collection', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    for (const extra of [[], ['-collect=volume', '-volume-claim=results', '-namespace=load']]) {
      const m = await generate(dir, [...extra, '--', '-rate=2000', '-duration=5m']);
      validate(m);
      const job = m.items.find((i) => i.kind === 'Job')!;
      assert.equal(job.spec.completionMode, 'Indexed');
      assert.equal(job.spec.completions, 4);
      assert.equal(job.spec.parallelism, 4);
      // One failed pod is one missing shard: a Job-wide backoffLimit of 0 would have Kubernetes kill the others.
      assert.equal(job.spec.backoffLimitPerIndex, 0);
      assert.equal(job.spec.backoffLimit, undefined);
      const c = job.spec.template.spec.containers[0];
      assert.ok(c.args.includes('-shard=$(JOB_COMPLETION_INDEX)/4'), c.args.join(' '));
      assert.ok(c.args.some((a: string) => /^-start-at=\d{4}-\d\d-\d\dT/.test(a)));
      assert.ok(c.env.some((e: any) => e.name === 'JOB_COMPLETION_INDEX'));
      assert.deepEqual(c.resources, podResources(500)); // 2000/s over 4 pods
      assert.equal(c.resources.limits.cpu, undefined, 'no CPU limit: throttling would be the tail');
    }
    // The Job's deadline counts the attack's -timeout (the last requests' time to end) and a pod's
    // grace period its -drain (a stopped pod writes its results before the SIGKILL).
    const jobOf = (m: Manifest) => m.items.find((i) => i.kind === 'Job')!;
    const plain = jobOf(await generate(dir, ['-start-in=10s', '--', '-rate=100', '-duration=60s']));
    const long = jobOf(await generate(dir, ['-start-in=10s', '--', '-rate=100', '-duration=60s', '-timeout=5m', '-drain=2m']));
    assert.equal(plain.spec.template.spec.terminationGracePeriodSeconds, 35);
    assert.equal(long.spec.template.spec.terminationGracePeriodSeconds, 150);
    assert.ok(long.spec.activeDeadlineSeconds - plain.spec.activeDeadlineSeconds >= 269, `${long.spec.activeDeadlineSeconds} vs ${plain.spec.activeDeadlineSeconds}`);
    assert.ok(plain.spec.activeDeadlineSeconds >= 10 + 60 + 30 + 120 - 1);
    // The validator is real: a manifest that breaks the schema is refused.
    const bad = await generate(dir, ['--', '-rate=100', '-duration=10s']);
    const job = bad.items.find((i) => i.kind === 'Job')!;
    job.spec.completions = 'four';
    delete job.spec.template.spec.containers[0].name;
    assert.throws(() => validate(bad), /completions must be integer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('k8s job: bad input is one line and exit 2; a manifest that cannot be written, one line and exit 1', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const targets = join(dir, 't.txt');
    writeFileSync(targets, 'GET http://127.0.0.1:9/\n');
    const cases: Array<[string[], RegExp]> = [
      [['k8s', 'job', '-image=x', `-targets=${targets}`, '--', '-rate=10', '-duration=1s'], /-shards=N is required/],
      [['k8s', 'job', '-shards=2', '-image=x', `-targets=${targets}`, '--', '-rate=10'], /needs a -duration/],
      [['k8s', 'job', '-shards=2', '-image=x', `-targets=${targets}`, '--', '-rate=0', '-duration=1s'], /max mode/],
      [['k8s', 'job', '-shards=2', '-image=x', `-targets=${targets}`, '--', '-rate=10', '-duration=1s', '-shard=0/2'], /set per pod/],
      [['k8s', 'job', '-shards=2', '-image=x', `-targets=${targets}`, '-start-at=2020-01-01T00:00:00Z', '--', '-rate=10', '-duration=1s'], /future/],
    ];
    for (const [args, want] of cases) {
      const r = await runCli(args, { timeoutMs: 30_000 });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    // A manifest that cannot be written is not a success (it went through the one output helper).
    const full = await runCli(['k8s', 'job', '-shards=2', '-image=x', `-targets=${targets}`, '-o=/dev/full', '--', '-rate=10', '-duration=1s'], { timeoutMs: 30_000 });
    assert.equal(full.code, 1);
    assert.equal(full.stderr, 'tailprobe: k8s: cannot write /dev/full: no space left on device (ENOSPC)\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a logs-collection pod stopped with SIGTERM (Job deleted, deadline) still prints its results: the container\'s shell passes the signal on', { timeout: 60_000 }, async () => {
  let served = 0;
  const srv = await listen((_req, res) => {
    served++;
    res.end('ok');
  });
  const dir = tempDir();
  let child: ReturnType<typeof spawn> | null = null;
  try {
    const targets = join(dir, 'targets.txt');
    writeFileSync(targets, `GET ${srv.url}/\n`);
    const r = await runCli(['k8s', 'job', '-shards=2', '-image=x', `-targets=${targets}`, '-start-in=1s', '--', '-rate=50', '-duration=60s'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const c = (JSON.parse(r.stdout.toString()) as Manifest).items.find((i) => i.kind === 'Job')!.spec.template.spec.containers[0];
    // The container's own command and args, run here: pod 0, the ConfigMap's path and /tmp mapped into the temp dir.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'tailprobe'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, 'tailprobe'), 0o755);
    const shardFile = join(dir, 'shard.bin');
    const local = (a: string) => a.replaceAll(`$(${INDEX_ENV})`, '0').replaceAll(TARGETS_PATH, targets).replaceAll('/tmp/shard.bin', shardFile);
    const [cmd, ...cmdArgs] = [...(c.command as string[]), ...(c.args as string[])].map(local);
    assert.equal(cmd, 'sh');
    // Its own process group, so that whatever it started is ended with it (see finally).
    const sh = spawn(cmd!, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    child = sh;
    let stdout = '';
    let stderr = '';
    sh.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    sh.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => sh.on('exit', (code) => resolve(code)));
    // Stop it once the schedule has run for a while (the warm-up sends a few requests before the start).
    const startMs = Date.parse(c.args.find((a: string) => a.startsWith('-start-at=')).slice('-start-at='.length));
    while (Date.now() < startMs + 1000 && sh.exitCode === null) await new Promise((res) => setTimeout(res, 50));
    assert.equal(sh.exitCode, null, `the pod's attack is still running: ${stderr}`);
    sh.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    const at = stdout.indexOf(`${RESULTS_MARKER}\n`);
    assert.ok(at >= 0, `the marker line is printed: ${stdout.slice(0, 200)} ${stderr}`);
    const decoded = join(dir, 'decoded.bin');
    writeFileSync(decoded, Buffer.from(stdout.slice(at + RESULTS_MARKER.length + 1), 'base64'));
    const { metrics, sources } = await readMetrics([decoded]);
    assert.ok(metrics.requests > 0 && metrics.requests < 50 * 60, `${metrics.requests} results`);
    assert.equal(sources[0]!.meta.health?.ended, 'interrupted', 'the stop came from the signal, and the file is complete (its health record is last)');
  } finally {
    // The whole group: a shell that died of the signal would have left its tailprobe running.
    if (child?.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
