export * from './rng.js';
export * from './sample.js';
export * from './bootstrap.js';
export * from './compare.js';
export * from './comparable.js';
export * from './format.js';
export * from './load.js';
