export * from './slo.js';
export * from './evaluate.js';
export * from './gate.js';
export * from './hooks.js';
