import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * What this machine lets one attack use: cores, open files, local ports. Read once, from the
 * kernel where it says (Linux /proc); elsewhere the figures fall back to conservative guesses.
 * The attack refuses worker and connection counts beyond them (one line, before anything is
 * opened) and sizes its default in-flight cap from them.
 */
export interface MachineLimits {
  cores: number;
  /** The process's open-file limit (Node raises the soft limit to the hard one at startup). */
  openFiles: number;
  /** Local ports for outgoing connections: the most connections to one host:port from one address. */
  localPorts: number;
}

/** Descriptors kept for everything that is not a target connection (stdio, files, workers, the agent). */
export const RESERVED_FDS = 256;

/** The default cap on requests in flight per attack (see defaultInFlightCap). */
export const IN_FLIGHT_CAP = 20_000;

let cached: MachineLimits | null = null;

export function machineLimits(): MachineLimits {
  if (cached) return cached;
  cached = { cores: availableParallelism(), openFiles: readOpenFiles() ?? 1024, localPorts: readLocalPorts() ?? 28_232 };
  return cached;
}

/** Connections one attack may open per host, and in all. */
export function connectionBudget(l: MachineLimits = machineLimits()): { perHost: number; total: number } {
  const total = Math.max(1, l.openFiles - RESERVED_FDS);
  return { perHost: Math.min(total, l.localPorts), total };
}

/**
 * Requests in flight at once for an attack that did not set -max-in-flight: as many as the process
 * could give their own connection, at most IN_FLIGHT_CAP (about 2 KB of memory each, a connection's
 * buffers aside). Beyond it a due request is counted, not queued (see runner.ts).
 */
export function defaultInFlightCap(l: MachineLimits = machineLimits()): number {
  return Math.max(1000, Math.min(IN_FLIGHT_CAP, connectionBudget(l).total));
}

function readOpenFiles(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((x) => x.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === undefined) return null;
    if (soft === 'unlimited') return 1 << 20;
    const n = Number(soft);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function readLocalPorts(): number | null {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return lo !== undefined && hi !== undefined && hi >= lo ? hi - lo + 1 : null;
  } catch {
    return null;
  }
}
