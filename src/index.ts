/**
 * tailprobe's library API. The CLI (`tailprobe <command>`) is a thin shell over these exports.
 * Subpath exports: `tailprobe/agent` (profile a Node service), `tailprobe/sync` (pool, locks),
 * `tailprobe/bench` (benchmarks with bytes/op).
 */
export * from './errors.js';
export * from './units/index.js';
export * from './metrics/index.js';
export * from './results/index.js';
export * from './slo/index.js';
export * from './report/index.js';
export * from './targets/index.js';
export * from './pacer/index.js';
export * from './attack/index.js';
export * from './export/index.js';
export * from './compare/index.js';
export * from './sweep/index.js';
export * from './profile/index.js';
export * from './plot/index.js';
export * from './demo/index.js';
