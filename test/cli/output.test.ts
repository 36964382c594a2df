import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli } from '../helpers/cli.js';
import { CLI, REPO_ROOT, tempDir } from '../helpers/paths.js';
import { listen } from '../helpers/servers.js';

/**
 * Every command's output goes through one helper (src/cli/output.ts): a failure to open or to
 * write is one line and exit 1; a reader that goes away (`| head`) is a quiet stop. And bad input
 * bytes (a cut gzip, a 10 MB target line, non-UTF-8 targets) get one short line with a reason.
 */

/** Runs the CLI with its stdout on a file descriptor (e.g. /dev/full), as a shell redirection does. */
function runWithStdout(args: string[], stdoutPath: string): Promise<{ code: number | null; stderr: string }> {
  const fd = openSync(stdoutPath, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      closeSync(fd);
      resolve({ code, stderr });
    });
  });
}

/** A small real results file, written by a real attack on loopback. */
async function resultsFile(dir: string): Promise<string> {
  const srv = await listen((_req, res) => res.end('ok'));
  try {
    const file = join(dir, 'r.bin');
    const a = await runCli(['attack', '-rate=50', '-duration=400ms', `-output=${file}`], { input: `GET ${srv.url}/\n`, timeoutMs: 40_000 });
    assert.equal(a.code, 0, a.stderr);
    return file;
  } finally {
    await srv.close();
  }
}

test('a full disk is one line and exit 1, for every command that writes: stdout and -o alike', { timeout: 120_000 }, async () => {
  const dir = tempDir('tailprobe-output-');
  try {
    const file = await resultsFile(dir);
    const full = '/dev/full';
    const toStdout: Array<[string[], string]> = [
      [['report', file], 'report'],
      [['report', '-type=json', file], 'report'],
      [['compare', file, file], 'compare'],
      [['plot', file], 'plot'],
      [['encode', '-to=json', file], 'encode'],
    ];
    for (const [args, cmd] of toStdout) {
      const r = await runWithStdout(args, full);
      assert.equal(r.code, 1, `${args.join(' ')} > /dev/full: ${r.stderr}`);
      assert.equal(r.stderr, `tailprobe: ${cmd}: cannot write to stdout: no space left on device (ENOSPC)\n`, args.join(' '));
    }
    const toFile: Array<[string[], string]> = [
      [['report', `-o=${full}`, file], 'report'],
      [['encode', '-to=csv', `-output=${full}`, file], 'encode'],
      [['plot', `-o=${full}`, file], 'plot'],
    ];
    for (const [args, cmd] of toFile) {
      const r = await runCli(args, { timeoutMs: 60_000 });
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `tailprobe: ${cmd}: cannot write /dev/full: no space left on device (ENOSPC)\n`, args.join(' '));
    }
    // An attack whose output fails stops, and says so once.
    const srv = await listen((_req, res) => res.end('ok'));
    try {
      const a = await runCli(['attack', '-rate=50', '-duration=2s', `-output=${full}`], { input: `GET ${srv.url}/\n`, timeoutMs: 40_000 });
      assert.equal(a.code, 1, a.stderr);
      assert.equal(a.stderr, 'tailprobe: attack: cannot write /dev/full: no space left on device (ENOSPC)\n');
    } finally {
      await srv.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an output that cannot be opened is one line and exit 1: a missing folder, a folder', { timeout: 60_000 }, async () => {
  const dir = tempDir('tailprobe-output-');
  try {
    const file = await resultsFile(dir);
    const sub = join(dir, 'adir');
    mkdirSync(sub);
    const missing = join(dir, 'no', 'such', 'out.txt');
    const cases: Array<[string[], string]> = [
      [['report', `-o=${missing}`, file], `tailprobe: report: cannot write ${missing}: no such file or directory (ENOENT)\n`],
      [['report', `-o=${sub}`, file], `tailprobe: report: cannot write ${sub}: is a directory (EISDIR)\n`],
      [['encode', `-output=${sub}`, file], `tailprobe: encode: cannot write ${sub}: is a directory (EISDIR)\n`],
      [['plot', `-o=${missing}`, file], `tailprobe: plot: cannot write ${missing}: no such file or directory (ENOENT)\n`],
    ];
    for (const [args, line] of cases) {
      const r = await runCli(args, { timeoutMs: 30_000 });
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, line);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader that goes away (| head) is a quiet stop with status 0, not an error', { timeout: 60_000 }, async () => {
  const dir = tempDir('tailprobe-output-');
  try {
    const file = await resultsFile(dir);
    // Enough output to fill the pipe: the file encoded many times over, as vegeta JSON lines.
    const many = Array.from({ length: 200 }, () => file);
    const child = spawn(process.execPath, [CLI, 'encode', '-to=json', ...many], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.once('data', () => child.stdout.destroy()); // `head -c 1`
      child.on('close', (c) => resolve(c));
    });
    assert.equal(stderr, '');
    assert.equal(code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input bytes: a gzip cut before its first result, a 10 MB target line, non-UTF-8 targets: one short line each', { timeout: 60_000 }, async () => {
  const dir = tempDir('tailprobe-badbytes-');
  try {
    const file = await resultsFile(dir);
    const gz = gzipSync(readFileSync(file));
    const cut = join(dir, 'cut.gz');
    writeFileSync(cut, gz.subarray(0, 12));
    const r = await runCli(['report', cut], { timeoutMs: 30_000 });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tailprobe: ${cut}: truncated gzip data (the compressed stream ends before the first result)\n`);

    const big = join(dir, 'big.txt');
    writeFileSync(big, `GET htp://x/${'a'.repeat(10_000_000)}\n`);
    const b = await runCli(['attack', `-targets=${big}`, '-duration=1s'], { timeoutMs: 30_000 });
    assert.equal(b.code, 2);
    assert.ok(b.stderr.length < 300, `a short line (${b.stderr.length} bytes)`);
    assert.match(b.stderr, /^tailprobe: .*big\.txt:1: invalid URL "htp:\/\/x\/a+\.\.\." \(10000008 characters\)\n$/);

    const bytes = join(dir, 'latin1.txt');
    writeFileSync(bytes, Buffer.concat([Buffer.from('GET http://127.0.0.1:1/ok\n\nGET http://127.0.0.1:1/caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const n = await runCli(['attack', `-targets=${bytes}`, '-duration=1s'], { timeoutMs: 30_000 });
    assert.equal(n.code, 2);
    assert.equal(n.stderr, `tailprobe: ${bytes}:3: not UTF-8 text (byte 0xe9 at column 27): write such bytes percent-encoded, e.g. %E9\n`);
    const viaStdin = await runCli(['attack', '-duration=1s'], { input: readFileSync(bytes), timeoutMs: 30_000 });
    assert.equal(viaStdin.code, 2);
    assert.equal(viaStdin.stderr, 'tailprobe: stdin:3: not UTF-8 text (byte 0xe9 at column 27): write such bytes percent-encoded, e.g. %E9\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
