import { createSocket } from 'node:dgram';
import { wallClockNs } from './wall.js';

/**
 * An SNTP client (RFC 4330): how far this machine's wall clock is from an NTP server's, measured
 * the way NTP does. Each exchange gives t1 (our send), t2 (server receive), t3 (server send) and t4
 * (our receive); the server's clock minus ours is θ = ((t2 − t1) + (t3 − t4)) / 2, and it is off by
 * at most half the round trip δ = (t4 − t1) − (t3 − t2) plus the server's own root distance. Of
 * several exchanges the one with the shortest round trip is kept (the least queueing, the tightest bound).
 */
export interface SntpMeasurement {
  /** This clock minus the server's, ns (positive: this clock is ahead). */
  offsetNs: number;
  /** Round trip of the best exchange, ns. */
  delayNs: number;
  /** Bound on |offset error|, ns: δ/2 + the server's root delay/2 + root dispersion. */
  maxErrorNs: number;
  stratum: number;
  samples: number;
}

/** Seconds between the NTP era (1900) and the Unix epoch (1970). */
const NTP_UNIX_S = 2_208_988_800n;
const NS = 1_000_000_000n;

function writeNtpTime(buf: Buffer, at: number, epochNs: bigint): void {
  const s = epochNs / NS + NTP_UNIX_S;
  const frac = ((epochNs % NS) << 32n) / NS;
  buf.writeUInt32BE(Number(s & 0xffffffffn), at);
  buf.writeUInt32BE(Number(frac), at + 4);
}

function readNtpTime(buf: Buffer, at: number): bigint {
  const s = BigInt(buf.readUInt32BE(at));
  const frac = BigInt(buf.readUInt32BE(at + 4));
  return (s - NTP_UNIX_S) * NS + ((frac * NS) >> 32n);
}

/** NTP's 16.16 fixed-point seconds (root delay, root dispersion) in ns. */
function short(buf: Buffer, at: number): number {
  return (buf.readUInt32BE(at) / 65536) * 1e9;
}

/** Parses "host[:port]" (port 123 by default; IPv6 in brackets). */
export function parseNtpAddress(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m) throw new Error(`invalid NTP server "${text}" (want host or host:port)`);
  const port = m[2] ? Number(m[2]) : 123;
  if (!(port > 0 && port < 65536)) throw new Error(`invalid NTP server "${text}" (bad port)`);
  return { host: m[1]!, port };
}

/**
 * Measures against an NTP server; rejects with a one-line Error when it does not answer in
 * `timeoutMs`. `timeoutMs` bounds the whole measurement, not each exchange: a server that stops
 * answering after the first reply costs the rest of it once, not a timeout per sample (a shard
 * measures before its start, which must not slip by eight timeouts).
 */
export async function sntpMeasure(server: string, opts: { samples?: number; timeoutMs?: number } = {}): Promise<SntpMeasurement> {
  const { host, port } = parseNtpAddress(server);
  const want = opts.samples ?? 8;
  const timeoutMs = opts.timeoutMs ?? 1000;
  const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const best: { m: SntpMeasurement | null } = { m: null };
  let got = 0;
  const deadline = performance.now() + timeoutMs;
  try {
    for (let i = 0; i < want; i++) {
      const leftMs = deadline - performance.now();
      if (leftMs <= 0) break;
      const req = Buffer.alloc(48);
      req[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
      const t1 = wallClockNs();
      writeNtpTime(req, 40, t1);
      const sentAs = req.readBigUInt64BE(40);
      const res = await new Promise<{ buf: Buffer; t4: bigint } | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          sock.off('message', onMessage);
          resolve(null);
        }, leftMs);
        const onMessage = (buf: Buffer) => {
          const t4 = wallClockNs();
          // Only the answer to this request: mode 4 (server), our transmit time echoed as its origin.
          if (buf.length < 48 || (buf[0]! & 7) !== 4 || buf.readBigUInt64BE(24) !== sentAs) return;
          clearTimeout(timer);
          sock.off('message', onMessage);
          resolve({ buf, t4 });
        };
        sock.on('message', onMessage);
        sock.send(req, port, host, (err) => {
          if (err) {
            clearTimeout(timer);
            sock.off('message', onMessage);
            reject(err);
          }
        });
      });
      // No answer at all to the first request: the server is not there; do not wait out every sample.
      if (!res) {
        if (got === 0) break;
        continue;
      }
      const { buf, t4 } = res;
      const stratum = buf[1]!;
      if (stratum === 0) continue; // a kiss-o'-death: the server refuses to serve
      const t2 = readNtpTime(buf, 32);
      const t3 = readNtpTime(buf, 40);
      const theta = Number(t2 - t1 + (t3 - t4)) / 2;
      const delay = Number(t4 - t1 - (t3 - t2));
      got++;
      const m: SntpMeasurement = {
        offsetNs: Math.round(-theta),
        delayNs: Math.max(0, delay),
        maxErrorNs: Math.round(Math.max(0, delay) / 2 + short(buf, 4) / 2 + short(buf, 8)),
        stratum,
        samples: 0,
      };
      if (!best.m || m.delayNs < best.m.delayNs) best.m = m;
    }
  } finally {
    sock.close();
  }
  if (!best.m) throw new Error(`NTP server ${server} did not answer within ${timeoutMs} ms`);
  return { ...best.m, samples: got };
}
