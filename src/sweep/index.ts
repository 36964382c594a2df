export * from './rates.js';
export * from './knee.js';
export * from './sweep.js';
export * from './format.js';
