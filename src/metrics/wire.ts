import { DurationHistogram } from './histogram.js';
import { Metrics } from './metrics.js';

/**
 * Metrics in a form that crosses a worker_threads boundary (structured clone: plain data and
 * bigints). Workers ship the Metrics of each batch of results with the batch, so the main thread's
 * totals are exact (HDR histograms merge losslessly) and always match the results already written,
 * even if a worker dies later.
 */
export interface MetricsWire {
  requests: number;
  successes: number;
  bytesIn: number;
  bytesOut: number;
  earliest: bigint;
  latest: bigint;
  end: bigint;
  lateSends: number;
  statusCodes: Array<[number, number]>;
  errors: Array<[string, number]>;
  otherErrors: number;
  latency: string;
  sendLag: string;
}

export function metricsToWire(m: Metrics): MetricsWire {
  return {
    requests: m.requests,
    successes: m.successes,
    bytesIn: m.bytesIn,
    bytesOut: m.bytesOut,
    earliest: m.earliest,
    latest: m.latest,
    end: m.end,
    lateSends: m.lateSends,
    statusCodes: [...m.statusCodes],
    errors: [...m.errors],
    otherErrors: m.otherErrors,
    latency: m.latency.encode(),
    sendLag: m.sendLag.encode(),
  };
}

export function metricsFromWire(w: MetricsWire): Metrics {
  const m = new Metrics();
  if (w.requests === 0) return m;
  m.requests = w.requests;
  m.successes = w.successes;
  m.bytesIn = w.bytesIn;
  m.bytesOut = w.bytesOut;
  m.earliest = w.earliest;
  m.latest = w.latest;
  m.end = w.end;
  m.lateSends = w.lateSends;
  for (const [c, n] of w.statusCodes) m.statusCodes.set(c, n);
  for (const [e, n] of w.errors) m.errors.set(e, n);
  m.otherErrors = w.otherErrors;
  m.latency.merge(DurationHistogram.decode(w.latency));
  m.sendLag.merge(DurationHistogram.decode(w.sendLag));
  return m;
}
