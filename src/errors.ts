/**
 * Errors that reach the user as one line and an exit code, never a stack trace.
 *
 * - UsageError: the user asked for something malformed (bad flag, target, duration, SLO...). Exit 2.
 * - RuntimeError: well-formed request that failed while running (file unreadable, endpoint not pprof...). Exit 1.
 *
 * Messages are written without the `tailprobe: ` prefix; the CLI adds it. Where the problem is in a
 * file, say so as `file:line: problem` (see `at()`), the way compilers do.
 */
export class TailprobeError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends TailprobeError {
  constructor(message: string) {
    super(message, 2);
  }
}

export class RuntimeError extends TailprobeError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** Prefix a message with a location: `targets.txt:3: invalid URL "htp:/x"`. */
export function at(file: string | undefined, line: number | undefined, message: string): string {
  if (!file) return message;
  return line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`;
}

/** Exit code used when an SLO gate fails (the same as k6's thresholds). */
export const EXIT_SLO_FAILED = 99;

/** Longest piece of the user's input quoted in a message. */
export const QUOTE_MAX = 80;

/**
 * A piece of the user's input, quoted for a one-line message: control characters escaped (a
 * message stays one line), and cut after QUOTE_MAX characters, saying how long it was (a 10 MB
 * line is not echoed to the terminal).
 */
export function quote(s: string, max = QUOTE_MAX): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  const esc = JSON.stringify(cut).slice(1, -1);
  return s.length > max ? `"${esc}..." (${s.length} characters)` : `"${esc}"`;
}
