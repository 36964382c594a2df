#!/usr/bin/env node
/**
 * What one scrape of /metrics costs the attack's main thread: `node dist/bench/prometheus-render.js`.
 * Renders the two histogram families (latency and send lag, 1e6 values each, latencies spread
 * log-uniformly over 100 µs..1 s, i.e. many HDR bins) in the text and in the protobuf exposition,
 * 200 times each after a warm-up, and prints the mean time per scrape. A shared machine is noisy:
 * read it as an order of magnitude, never as a gate.
 */
import { Exposition } from '../src/export/exposition.js';
import { Metrics } from '../src/metrics/metrics.js';

const m = new Metrics();
let x = 1;
for (let i = 0; i < 1e6; i++) {
  x = (x * 48271) % 2147483647;
  m.latency.record(1e5 * Math.exp((x / 2147483647) * Math.log(1e4)));
  m.sendLag.record(x % 5e6);
}
const render = (proto: boolean) => {
  const e = new Exposition();
  e.histogram('tailprobe_latency_seconds', 'latency', m.latency);
  e.histogram('tailprobe_send_lag_seconds', 'send lag', m.sendLag);
  return proto ? e.protobuf().length : e.text().length;
};
for (const proto of [false, true]) {
  for (let i = 0; i < 20; i++) render(proto);
  const t = performance.now();
  let bytes = 0;
  for (let i = 0; i < 200; i++) bytes = render(proto);
  const ms = (performance.now() - t) / 200;
  process.stdout.write(`${proto ? 'protobuf' : 'text    '}  ${ms.toFixed(2)} ms per scrape (two histograms of 1e6 values), ${bytes} bytes\n`);
}
