import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, formatDuration, parseBytes } from '../src/units/index.js';
import { parseArgs, formatHelp, type CommandSpec } from '../src/cli/flags.js';
import { UsageError } from '../src/errors.js';

test('parseDuration follows Go', () => {
  assert.equal(parseDuration('60s'), 60e9);
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('1.5h'), 5400e9);
  assert.equal(parseDuration('300ms'), 300e6);
  assert.equal(parseDuration('10µs'), 10e3);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('60'), /missing unit/);
  assert.throws(() => parseDuration('abc'), UsageError);
  assert.equal(formatDuration(1.5e9), '1.5s');
  assert.equal(formatDuration(90e9), '1m30s');
  assert.equal(formatDuration(250e6), '250ms');
});

test('parseBytes', () => {
  assert.equal(parseBytes('64KiB'), 65536);
  assert.equal(parseBytes('10MB'), 10e6);
  assert.equal(parseBytes('-1'), -1);
  assert.throws(() => parseBytes('ten'), UsageError);
});

const spec: CommandSpec = {
  name: 'demo-cmd',
  summary: 'x',
  usage: '[flags]',
  flags: [
    { name: 'rate', type: 'string', default: '50/1s', help: 'rate' },
    { name: 'duration', type: 'duration', default: '10s', help: 'd' },
    { name: 'header', type: 'strings', help: 'h' },
    { name: 'http2', type: 'bool', help: 'h2' },
    { name: 'connections', type: 'int', default: 10000, help: 'c' },
    { name: 'output', type: 'string', default: 'stdout', help: 'o', aliases: ['o'] },
  ],
};

test('flags: Go and GNU spellings are the same', () => {
  for (const argv of [['-rate=500'], ['-rate', '500'], ['--rate', '500'], ['--rate=500']]) {
    assert.equal(parseArgs(spec, argv).string('rate'), '500');
  }
  const a = parseArgs(spec, ['-http2', 'file.txt', '-header', 'A: 1', '--header=B: 2', '-duration=2m', '-o', 'x.bin']);
  assert.equal(a.bool('http2'), true);
  assert.deepEqual(a.positionals, ['file.txt']);
  assert.deepEqual(a.list('header'), ['A: 1', 'B: 2']);
  assert.equal(a.number('duration'), 120e9);
  assert.equal(a.string('output'), 'x.bin');
  assert.equal(a.number('connections'), 10000);
  assert.equal(parseArgs(spec, ['-http2=false']).bool('http2'), false);
});

test('flags: bad input is a one-line usage error', () => {
  assert.throws(() => parseArgs(spec, ['-nope']), /unknown flag -nope/);
  assert.throws(() => parseArgs(spec, ['-duration=ten']), /invalid value "ten" for flag -duration/);
  assert.throws(() => parseArgs(spec, ['-connections=x']), /expected an integer/);
  assert.throws(() => parseArgs(spec, ['-rate']), /needs a value/);
});

test('help lists every flag with its default', () => {
  const h = formatHelp(spec);
  for (const f of spec.flags) assert.match(h, new RegExp(`-${f.name}\\b`));
  assert.match(h, /default 50\/1s/);
  assert.match(h, /default 10s/);
});
