import { STATUS_CODES } from 'node:http';
/**
 * The text a failed request carries in its result. Results are grouped by this text in the
 * report's Error Set, so it must be stable (no request-specific detail beyond the address) and say
 * what happened in the words people search for: "connect ECONNREFUSED 127.0.0.1:1", "timeout",
 * "read ECONNRESET".
 */

/** The one error our own deadline produces. */
export const TIMEOUT = 'timeout';

/** Thrown into undici to drop a request that timed out while still queued (never sent). */
export class DroppedAfterTimeout extends Error {
  constructor() {
    super(TIMEOUT);
  }
}

/** Our deadline, handed to undici's abort(). */
export class AttackTimeout extends Error {
  constructor() {
    super(TIMEOUT);
  }
}

const cache = new Map<string, string>();

export function errorText(err: unknown): string {
  if (err instanceof AttackTimeout || err instanceof DroppedAfterTimeout) return TIMEOUT;
  const e = err as NodeJS.ErrnoException & { cause?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  let text: string;
  if (code.startsWith('HPE_') || e?.name === 'HTTPParserError') {
    // llhttp refused the bytes: not HTTP, or broken HTTP (a garbage response).
    text = `invalid response: ${e.message || code}`;
  } else if (code === 'UND_ERR_SOCKET') {
    // The server closed (or reset) the connection before the response was complete.
    const cause = e.cause as NodeJS.ErrnoException | undefined;
    text = cause?.code === 'ECONNRESET' ? 'read ECONNRESET' : 'EOF: the server closed the connection';
  } else if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    text = 'connect timeout';
  } else if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    text = 'response body shorter than its Content-Length';
  } else if (code === 'UND_ERR_INFO' && e.message === 'aborted') {
    // Another request on the same (pipelined) connection timed out, and the connection went with it.
    text = 'connection aborted';
  } else {
    text = e?.message || String(err);
  }
  // Intern: the same text object for every occurrence keeps grouping cheap.
  let t = cache.get(text);
  if (t === undefined) {
    if (cache.size < 10000) cache.set(text, text);
    t = text;
  }
  return t;
}

const statusTexts = new Map<number, string>();

/**
 * The error of a response that is not a success (below 200 or 400 and up), as vegeta records it:
 * Go's `resp.Status`, "404 Not Found". The reason phrase is the standard one for the code (Node's
 * table), not the one the server sent: tailprobe's HTTP/1.1 parser does not keep the status line.
 */
export function statusError(code: number): string {
  let t = statusTexts.get(code);
  if (t === undefined) {
    const reason = STATUS_CODES[code];
    t = reason ? `${code} ${reason}` : `${code}`;
    statusTexts.set(code, t);
  }
  return t;
}
