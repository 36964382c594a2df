import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * Who may read the profiling endpoints. Profiles expose source paths, function names and timing of
 * the service: without a token, only the machine itself may ask (loopback listener, loopback peer,
 * loopback Host header, no proxy in between). With a token, anyone who presents it.
 */

/** True for 127.0.0.0/8, ::1, IPv4-mapped loopback and "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

/**
 * Who is guarding which endpoints, for the messages: the agent's by default; the attack's Prometheus
 * endpoint (src/export) uses the same rules under its own name and token variable.
 */
export interface Guard {
  /** Message prefix, e.g. "tailprobe agent". */
  who: string;
  /** What would be exposed, e.g. "the profiling endpoints". */
  exposes: string;
  /** How to set a token, e.g. "Set TAILPROBE_AGENT_TOKEN (or the token option)". */
  tokenHint: string;
  /** The variable named in refusals, e.g. TAILPROBE_AGENT_TOKEN. */
  tokenVar: string;
}

export const AGENT_GUARD: Guard = {
  who: 'tailprobe agent',
  exposes: 'the profiling endpoints',
  tokenHint: 'Set TAILPROBE_AGENT_TOKEN (or the token option)',
  tokenVar: 'TAILPROBE_AGENT_TOKEN',
};

/** Refuses, with a clear reason, to listen beyond loopback without a token. */
export function checkBind(host: string, port: number, token: string | undefined, guard: Guard = AGENT_GUARD): void {
  if (isLoopbackHost(host)) return;
  if (token) return;
  throw new AgentConfigError(
    `${guard.who}: refusing to listen on ${host.includes(':') ? `[${host}]` : host || '(all interfaces)'}:${port} without a token: ` +
      `${guard.exposes} would be open to the network. ${guard.tokenHint}, or listen on 127.0.0.1.`,
  );
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token a request presents: `Authorization: Bearer T` or `?token=T` (go tool pprof can send only URLs). */
export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  return url.searchParams.get('token');
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; message: string };

/** Decides whether a request may be served. */
export function authorize(req: IncomingMessage, url: URL, token: string | undefined, guard: Guard = AGENT_GUARD): Verdict {
  const who = guard.who;
  const tokenVar = guard.tokenVar;
  if (token) {
    const given = presentedToken(req, url);
    if (given !== null && tokenMatches(given, token)) return { ok: true };
    return {
      ok: false,
      status: 401,
      message: given === null
        ? `${who}: a token is required (Authorization: Bearer TOKEN, or ?token=TOKEN)`
        : `${who}: wrong token`,
    };
  }
  const peer = req.socket.remoteAddress ?? '';
  if (!isLoopbackHost(peer)) {
    return { ok: false, status: 403, message: `${who}: only loopback clients without a token (you are ${peer}); set ${tokenVar} to allow others` };
  }
  // A loopback peer can still relay someone else: a reverse proxy on the same host...
  if (req.headers['x-forwarded-for'] || req.headers.forwarded || req.headers['x-real-ip']) {
    return { ok: false, status: 403, message: `${who}: proxied request refused without a token (set ${tokenVar})` };
  }
  // ...or a browser page whose host name was rebound to 127.0.0.1 (DNS rebinding).
  const hostHeader = req.headers.host;
  if (hostHeader) {
    const name = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d+$/, '');
    if (!isLoopbackHost(name)) {
      return { ok: false, status: 403, message: `${who}: Host "${hostHeader}" is not a loopback name; without a token only 127.0.0.1, [::1] and localhost are answered` };
    }
  }
  return { ok: true };
}
