export { type Target, type TargetFormat, describeTarget, withHeaders } from './target.js';
export { parseTargets, parseHeaderFlag } from './parse.js';
export { readTargets } from './read.js';
