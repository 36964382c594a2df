export { attack, share, type AttackOutcome } from './attack.js';
export { type AttackOptions, type AttackProgress, DEFAULTS as ATTACK_DEFAULTS, defaultWorkers, resolveOptions } from './options.js';
export { type AttackPlugin, type AttackRun, type PluginOutcome, type PluginStart } from './plugin.js';
export { Clock } from '../time/clock.js';
export { errorText, TIMEOUT } from './error-text.js';
export { formatProgress } from './progress.js';
