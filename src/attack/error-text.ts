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

/** The texts of a connection that failed under a request (tailprobe's HTTP/1.1 connection and undici's). */
export const SERVER_CLOSED = 'EOF: the server closed the connection';
export const CONNECTION_RESET = 'read ECONNRESET';
export const SHORT_BODY = 'response body shorter than its Content-Length';
/** Another request on the same (pipelined) connection timed out, and the connection went with it. */
export const CONNECTION_ABORTED = 'connection aborted';
/** Bytes that are not HTTP, or broken HTTP (a garbage response). */
export const invalidResponse = (what: string): string => `invalid response: ${what}`;

/**
 * An error that carries the text its result records, in the words above: what tailprobe's own
 * HTTP/1.1 connection (http1.ts) raises, so errorText() takes its message as it is.
 */
export class ResultError extends Error {
  constructor(text: string, options?: { cause?: Error }) {
    super(text, options);
  }
}

const cache = new Map<string, string>();

export function errorText(err: unknown): string {
  if (err instanceof AttackTimeout || err instanceof DroppedAfterTimeout) return TIMEOUT;
  const e = err as NodeJS.ErrnoException & { cause?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  let text: string;
  // undici's errors, in the words of tailprobe's own connection (ResultError: e.message as it is).
  if (err instanceof ResultError) {
    text = err.message;
  } else if (code.startsWith('HPE_') || e?.name === 'HTTPParserError') {
    text = invalidResponse(e.message || code);
  } else if (code === 'UND_ERR_SOCKET') {
    // The server closed (or reset) the connection before the response was complete.
    const cause = e.cause as NodeJS.ErrnoException | undefined;
    text = cause?.code === 'ECONNRESET' ? CONNECTION_RESET : SERVER_CLOSED;
  } else if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    text = 'connect timeout';
  } else if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    text = SHORT_BODY;
  } else if (code === 'UND_ERR_INFO' && e.message === 'aborted') {
    text = CONNECTION_ABORTED;
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
