/** Base layer: the project's one wall clock (wall.ts) and the schedule clock built on it (clock.ts). */
export { wallClockNs, perfToWallNs } from './wall.js';
export { Clock } from './clock.js';
export { clockEstimate, parseChronyTracking, type ClockEstimate } from './quality.js';
export { sntpMeasure, parseNtpAddress, type SntpMeasurement } from './sntp.js';
