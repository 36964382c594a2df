import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { listen } from '../helpers/servers.js';
import { ProfileBuilder, encodeProfile } from '../../src/profile/builder.js';

/** Whatever is wrong (the URL, the answer, the file, the time) is one line and exit 1. */

const GO_INDEX = `<html><head><title>/debug/pprof/</title></head><body>/debug/pprof/<br>
Types of profiles available: <a href='heap?debug=1'>heap</a> <a href='profile?seconds=30'>profile</a></body></html>`;

const HTML_ERROR = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';

function validProfile(): Buffer {
  const b = new ProfileBuilder({ sampleTypes: [['samples', 'count'], ['cpu', 'nanoseconds']], periodType: ['cpu', 'nanoseconds'], period: 1e7 });
  b.sample([b.location({ name: 'main.work', file: 'main.go', line: 3 })], [10, 1e8]);
  return encodeProfile(b.build());
}

/** A server with Go's index and the given answer for /debug/pprof/profile. */
function pprofServer(profile: (req: IncomingMessage, res: ServerResponse) => void) {
  return listen((req, res) => {
    if (req.url === '/debug/pprof/') res.end(GO_INDEX);
    else if (req.url?.startsWith('/debug/pprof/profile')) profile(req, res);
    else {
      res.statusCode = 404;
      res.end('404 page not found\n');
    }
  });
}

function assertOneLine(r: { code: number | null; stderr: string }, pattern: RegExp, code = 1): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('profiling '));
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0]!, /^tailprobe: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

describe('profile: bad input is one clear line', () => {
  const dirs: string[] = [];
  const out = () => {
    const d = tempDir('tailprobe-badprof-');
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const profile = (url: string, ...extra: string[]) => runCli(['profile', `-url=${url}`, '-types=cpu', '-seconds=1', `-out=${out()}`, ...extra], { timeoutMs: 30_000 });

  it('a URL that is not a pprof endpoint (404)', async () => {
    const s = await listen((_req, res) => {
      res.statusCode = 404;
      res.end('404 page not found\n');
    });
    try {
      assertOneLine(await profile(s.url), /\/debug\/pprof\/: HTTP 404 Not Found: no pprof index here \(not a pprof endpoint\)/);
    } finally {
      await s.close();
    }
  });

  it('a URL that answers every path with an HTML page (a web app, not pprof)', async () => {
    const s = await listen((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><html><head><title>My Shop</title></head><body>hello</body></html>');
    });
    try {
      assertOneLine(await profile(s.url), /not a pprof endpoint \(got an HTML page \("My Shop"\) instead of the pprof index\)/);
    } finally {
      await s.close();
    }
  });

  it('an HTML error page instead of the profile (a proxy in the way)', async () => {
    const s = await pprofServer((_req, res) => {
      res.statusCode = 502;
      res.setHeader('content-type', 'text/html');
      res.end(HTML_ERROR);
    });
    const ok = await pprofServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(HTML_ERROR);
    });
    try {
      assertOneLine(await profile(s.url), /profile\?seconds=1: HTTP 502$/);
      assertOneLine(await profile(ok.url), /profile\?seconds=1: got an HTML page \("502 Bad Gateway"\), not a profile/);
    } finally {
      await s.close();
      await ok.close();
    }
  });

  it('a truncated profile', async () => {
    const whole = validProfile();
    const s = await pprofServer((_req, res) => res.end(whole.subarray(0, whole.length - 12)));
    try {
      assertOneLine(await profile(s.url), /profile\?seconds=1: truncated or corrupt gzip data/);
    } finally {
      await s.close();
    }
  });

  it('a body that is neither gzip nor a profile', async () => {
    const s = await pprofServer((_req, res) => res.end(Buffer.from([0x08, 0x96, 0x01, 0xff, 0xff, 0x00, 0x13, 0x37, 0x00, 0x01])));
    const text = await pprofServer((_req, res) => res.end('Could not enable CPU profiling: cpu profiling already in use\n'));
    const gzText = await pprofServer((_req, res) => res.end(gzipSync('hello, I am not a protobuf')));
    try {
      assertOneLine(await profile(s.url), /profile\?seconds=1: not a pprof profile/);
      assertOneLine(await profile(text.url), /got text, not a profile: "Could not enable CPU profiling/);
      assertOneLine(await profile(gzText.url), /not a pprof profile/);
    } finally {
      await s.close();
      await text.close();
      await gzText.close();
    }
  });

  it('a service that never answers: a timeout', async () => {
    const s = await pprofServer(() => {
      /* hang */
    });
    try {
      const t0 = Date.now();
      const r = await profile(s.url, '-timeout=1s');
      assertOneLine(r, /profile\?seconds=1: no response within 2s \(timeout\)/);
      assert.ok(Date.now() - t0 < 15_000);
    } finally {
      await s.close();
    }
  });

  it('a service that hangs even its index: the probe waits -timeout, not a fixed 10 s', async () => {
    const s = await listen(() => {
      /* hang */
    });
    try {
      const r = await profile(s.url, '-timeout=300ms');
      assertOneLine(r, /debug\/pprof\/: no response within 300ms \(timeout\)/);
    } finally {
      await s.close();
    }
  });

  it('nothing listening', async () => {
    const s = await listen(() => {});
    const url = s.url;
    await s.close();
    assertOneLine(await profile(url), /connection refused \(is the service running, with pprof on this port\?\)/);
  });

  it('Go refusing a second CPU profile (its 500 text) reads as "already running"', async () => {
    const s = await pprofServer((_req, res) => {
      res.statusCode = 500;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.setHeader('x-go-pprof', '1');
      res.end('Could not enable CPU profiling: cpu profiling already in use\n');
    });
    try {
      assertOneLine(await profile(s.url), /HTTP 500: another CPU profile is already running on this service; try again when it ends/);
    } finally {
      await s.close();
    }
  });

  it('usage errors exit 2', async () => {
    assertOneLine(await runCli(['profile']), /-url is required/, 2);
    assertOneLine(await runCli(['profile', '-url=http://127.0.0.1:1', '-types=cpu,bogus']), /unknown profile type "bogus"/, 2);
    assertOneLine(await runCli(['profile', '-url=ftp://x']), /invalid URL "ftp:\/\/x"/, 2);
    assertOneLine(await runCli(['profile', '-url=http://127.0.0.1:1', '-seconds=0']), /-seconds must be at least 1/, 2);
  });
});

describe('pprof: bad files are one clear line', () => {
  const dir = tempDir('tailprobe-badfiles-');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, data: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  it('truncated, not gzip, HTML, JSON of the wrong kind, missing', async () => {
    const whole = validProfile();
    assertOneLine(await runCli(['pprof', 'top', file('t.pb.gz', whole.subarray(0, 20))]), /t\.pb\.gz: truncated or corrupt gzip data/);
    assertOneLine(await runCli(['pprof', 'top', file('r.bin', Buffer.from([0xff, 0xfe, 0x00, 0x07, 0x01]))]), /r\.bin: not a pprof profile/);
    assertOneLine(await runCli(['pprof', 'top', file('e.html', HTML_ERROR)]), /e\.html: got an HTML page \("502 Bad Gateway"\), not a profile/);
    assertOneLine(await runCli(['pprof', 'top', file('x.json', '{"hello": 1}')]), /x\.json: JSON but not a V8 CPU profile/);
    assertOneLine(await runCli(['pprof', 'top', file('y.json', '{"nodes": [')]), /y\.json: invalid JSON/);
    assertOneLine(await runCli(['pprof', 'top', file('empty.pb.gz', '')]), /empty\.pb\.gz: empty, not a profile/);
    assertOneLine(await runCli(['pprof', 'top', join(dir, 'nope.pb.gz')]), /nope\.pb\.gz: no such file/);
    assertOneLine(await runCli(['pprof', 'top', dir]), /is a directory/);
  });

  it('usage errors exit 2', async () => {
    const ok = file('ok.pb.gz', validProfile());
    assertOneLine(await runCli(['pprof']), /which one\? top, flame, convert/, 2);
    assertOneLine(await runCli(['pprof', 'bottom', ok]), /unknown subcommand "bottom"/, 2);
    assertOneLine(await runCli(['pprof', 'top']), /no profile file given/, 2);
    assertOneLine(await runCli(['pprof', 'top', ok, '-sample_index=alloc_space']), /no sample type "alloc_space" in this profile \(it has samples, cpu\)/, 2);
    assertOneLine(await runCli(['pprof', 'convert', ok]), /-o FILE is required/, 2);
  });
});
