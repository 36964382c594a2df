#!/usr/bin/env node
/**
 * Results codec speed and size: `node dist/bench/results-codec.js [-n=2000000] [-big=0]`.
 *
 * Measures, for typical results (one target, 200s, ms latencies, µs send lag, 500 req/s schedule):
 *   - bytes per result in each format;
 *   - encode rate (results/s) of BinaryEncoder and of the vegeta JSON/CSV writers;
 *   - decode rate of each format from a file through openResults (the whole read path: file
 *     stream, format detection, decoding, Result objects), and readMetrics (decode + Metrics.add);
 *   - peak RSS while reading, to show it stays flat however large the file (-big=20000000 writes and
 *     reads a file of that many results).
 * Not a test: machines are shared and noisy, so read the figures, don't gate on them.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinaryEncoder } from '../src/results/binary-encoder.js';
import { createResultWriter } from '../src/results/writer.js';
import { readMetrics } from '../src/metrics/read.js';
import { openResults } from '../src/results/reader.js';
import type { ResultFormat } from '../src/results/formats.js';
import type { Result } from '../src/results/result.js';

const arg = (name: string, def: number) => {
  const a = process.argv.find((x) => x.replace(/^--?/, '').startsWith(`${name}=`));
  return a ? Number(a.split('=')[1]) : def;
};
const N = arg('n', 2_000_000);
const BIG = arg('big', 0);

const T0 = 1795766400000000000n;
function* typical(n: number): Generator<Result> {
  let x = 99;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  // One object reused, as the attack engine's results are short-lived: we measure the codec, not the generator.
  const r: Result = {
    attack: '', seq: 0, code: 200, timestamp: T0, latency: 0, sendLag: 0, bytesOut: 0, bytesIn: 42, error: '',
    body: null, method: 'GET', url: 'http://127.0.0.1:8080/api/lookup', headers: null,
  };
  for (let i = 0; i < n; i++) {
    r.seq = i;
    r.timestamp = T0 + BigInt(i) * 2_000_000n;
    r.latency = 400_000 + Math.floor(rnd() * 2_000_000);
    r.sendLag = 20_000 + Math.floor(rnd() * 60_000);
    r.code = i % 1000 === 999 ? 503 : 200;
    yield r;
  }
}

function rate(n: number, ns: bigint): string {
  const perSec = n / (Number(ns) / 1e9);
  return perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)} M/s` : `${(perSec / 1e3).toFixed(0)} k/s`;
}

async function writeFile(path: string, format: ResultFormat, n: number): Promise<bigint> {
  const out = createWriteStream(path);
  const w = createResultWriter(out, format, { flushBytes: 256 * 1024 });
  const t = process.hrtime.bigint();
  let i = 0;
  for (const r of typical(n)) {
    w.write(r);
    if (++i % 65536 === 0) await w.drained();
  }
  await w.close();
  return process.hrtime.bigint() - t;
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
sampler.unref();

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tailprobe-codec-'));
  try {
    // Encoder alone, into memory.
    const enc = new BinaryEncoder(1 << 20);
    let bytes = 0;
    let t = process.hrtime.bigint();
    for (const r of typical(N)) {
      enc.encode(r);
      if (enc.length > 1 << 20) bytes += enc.takeContinuing().length;
    }
    bytes += enc.takeContinuing().length;
    const encNs = process.hrtime.bigint() - t;
    const rows: string[][] = [['format', 'bytes/result', 'write (file)', 'read (openResults)', 'read+Metrics (readMetrics)']];
    console.log(`results codec, ${N.toLocaleString('en')} typical results, node ${process.version}`);
    console.log(`BinaryEncoder.encode alone: ${rate(N, encNs)}, ${(bytes / N).toFixed(2)} bytes/result\n`);

    for (const format of ['binary', 'json', 'csv'] as const) {
      const n = format === 'binary' ? N : Math.min(N, 500_000);
      const path = join(dir, `r.${format}`);
      const wNs = await writeFile(path, format, n);
      const size = statSync(path).size;
      t = process.hrtime.bigint();
      const src = await openResults(path);
      let count = 0;
      for await (const b of src.batches()) count += b.length;
      const rNs = process.hrtime.bigint() - t;
      if (count !== n) throw new Error(`${format}: read ${count} of ${n}`);
      t = process.hrtime.bigint();
      const { metrics } = await readMetrics([path]);
      const mNs = process.hrtime.bigint() - t;
      if (metrics.requests !== n) throw new Error(`${format}: metrics saw ${metrics.requests}`);
      rows.push([format, (size / n).toFixed(2), rate(n, wNs), rate(n, rNs), rate(n, mNs)]);
      rmSync(path);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)) + 2);
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join(''));
    console.log(`\n(json and csv measured on ${Math.min(N, 500_000).toLocaleString('en')} results)`);
    console.log(`peak RSS so far: ${(peakRss / 2 ** 20).toFixed(0)} MiB`);

    if (BIG > 0) {
      const path = join(dir, 'big.bin');
      const wNs = await writeFile(path, 'binary', BIG);
      const size = statSync(path).size;
      global.gc?.();
      peakRss = process.memoryUsage().rss;
      const before = peakRss;
      t = process.hrtime.bigint();
      const { metrics } = await readMetrics([path]);
      const rNs = process.hrtime.bigint() - t;
      console.log(
        `\nbig file: ${BIG.toLocaleString('en')} results, ${(size / 2 ** 20).toFixed(0)} MiB (${(size / BIG).toFixed(2)} B/result); ` +
          `write ${rate(BIG, wNs)}, readMetrics ${rate(BIG, rNs)} (${(Number(rNs) / 1e9).toFixed(1)} s), ` +
          `RSS before ${(before / 2 ** 20).toFixed(0)} MiB, peak while reading ${(peakRss / 2 ** 20).toFixed(0)} MiB; p99 ${(metrics.latencies().p99 / 1e6).toFixed(3)} ms`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
