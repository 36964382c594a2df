import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseTargets, parseHeaderFlag, withHeaders } from '../../src/targets/index.js';
import { UsageError } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

test('http format: methods, headers, comments, blank lines, @body relative to the targets file', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'bodies'));
  writeFileSync(join(dir, 'bodies', 'thing.json'), '{"a":1}');
  const text = [
    '# a comment',
    'GET http://127.0.0.1:8080/api/lookup?id=1',
    'X-Account-ID: 8675309',
    'Accept: a',
    'Accept: b',
    '',
    '// vegeta comment style',
    'POST http://127.0.0.1:8080/things',
    'Content-Type: application/json',
    '@bodies/thing.json',
    '',
    '',
    'DELETE https://example.test/x',
  ].join('\n');
  const file = join(dir, 'targets.txt');
  const ts = parseTargets(text, 'http', file);
  assert.equal(ts.length, 3);
  assert.deepEqual(ts[0], {
    method: 'GET',
    url: 'http://127.0.0.1:8080/api/lookup?id=1',
    headers: { 'X-Account-ID': ['8675309'], Accept: ['a', 'b'] },
    body: null,
  });
  assert.equal(ts[1]!.method, 'POST');
  assert.equal(Buffer.from(ts[1]!.body!).toString(), '{"a":1}');
  assert.deepEqual(ts[1]!.headers, { 'Content-Type': ['application/json'] });
  assert.equal(ts[2]!.url, 'https://example.test/x');
});

/** assert.throws with a RegExp matches "Name: message"; these check the message alone. */
function throwsMsg(fn: () => unknown, re: RegExp, what?: string) {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && re.test(e.message), what);
}

test('http format errors name file and line', () => {
  const cases: Array<[string, RegExp]> = [
    ['GET http://127.0.0.1/\n\nGET htp:/x\n', /^t\.txt:3: invalid URL "htp:\/x"$/],
    ['get http://127.0.0.1/\n', /^t\.txt:1: invalid method "get"$/],
    ['http://127.0.0.1/\n', /^t\.txt:1: missing method/],
    ['GET http://127.0.0.1/\nNot a header\n', /^t\.txt:2: invalid header "Not a header"/],
    ['GET http://127.0.0.1/\n@nope.json\n', /^t\.txt:2: cannot read body file "nope.json": no such file$/],
    ['GET ftp://127.0.0.1/\n', /^t\.txt:1: invalid URL "ftp:\/\/127.0.0.1\/"$/],
    ['# only comments\n\n', /^t\.txt: no targets$/],
  ];
  for (const [text, re] of cases) {
    throwsMsg(() => parseTargets(text, 'http', 't.txt'), re, text);
  }
  throwsMsg(() => parseTargets('GET nope\n', 'http'), /^stdin:1: invalid URL "nope"$/);
});

test('json format: vegeta fields, base64 body, header arrays; errors name the line', () => {
  const body = Buffer.from('hello').toString('base64');
  const text =
    `{"method":"POST","url":"http://127.0.0.1:1/x","body":"${body}","header":{"X-A":["1","2"]}}\n` +
    '\n{"url":"http://127.0.0.1:1/y"}\n';
  const ts = parseTargets(text, 'json', 'targets.json');
  assert.equal(ts.length, 2);
  assert.equal(Buffer.from(ts[0]!.body!).toString(), 'hello');
  assert.deepEqual(ts[0]!.headers, { 'X-A': ['1', '2'] });
  assert.equal(ts[1]!.method, 'GET');
  throwsMsg(() => parseTargets('{"url":"http://a/"}\n{nope\n', 'json', 'j'), /^j:2: invalid JSON target/);
  throwsMsg(() => parseTargets('{"method":"GET"}\n', 'json', 'j'), /^j:1: invalid JSON target: missing "url"$/);
  throwsMsg(() => parseTargets('{"url":"htp:/x"}\n', 'json', 'j'), /^j:1: invalid URL "htp:\/x"$/);
  assert.throws(() => parseTargets('{"url":"http://a/","body":"***"}\n', 'json', 'j'), /must be base64/);
  assert.throws(() => parseTargets('{"url":"http://a/","header":{"X":[1]}}\n', 'json', 'j'), /header "X"/);
});

test('-header values and global headers are added to the target\'s own', () => {
  assert.deepEqual(parseHeaderFlag('Authorization: Bearer x:y'), ['Authorization', 'Bearer x:y']);
  assert.throws(() => parseHeaderFlag('nocolon'), UsageError);
  const t = withHeaders({ method: 'GET', url: 'http://a/', headers: { accept: ['b'] }, body: null }, { Accept: ['a'], 'X-Y': ['1'] });
  assert.deepEqual(t.headers, { Accept: ['a', 'b'], 'X-Y': ['1'] });
});

test('CLI: a bad target is one line and exit 2', async () => {
  const dir = tempDir();
  const file = join(dir, 'targets.txt');
  writeFileSync(file, 'GET http://127.0.0.1:1/\n\nGET htp:/x\n');
  const r = await runCli(['attack', '-targets', file, '-duration=1s', '-rate=10'], { timeoutMs: 20_000 });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `tailprobe: ${file}:3: invalid URL "htp:/x"\n`);
  const s = await runCli(['attack', '-duration=1s', '-rate=10'], { input: 'GET http://127.0.0.1:1/\nbad header\n', timeoutMs: 20_000 });
  assert.equal(s.code, 2);
  assert.equal(s.stderr, 'tailprobe: stdin:2: invalid header "bad header" (want "Name: value")\n');
  assert.equal(s.stdout.length, 0);
});
