import type { Result } from '../results/result.js';
import { countBefore, type Pacer } from '../pacer/pacer.js';
import type { Clock } from '../time/clock.js';
import { AttackTimeout, DroppedAfterTimeout, TIMEOUT, errorText, statusError } from './error-text.js';
import type { Conn } from './host-pool.js';
import type { Metronome } from './metronome.js';
import type { Plan, PreparedTarget } from './plan.js';

/**
 * The engine of one thread: it walks its share of the schedule, hands each request to undici when
 * due, and turns each completion into a Result.
 *
 * Open model. Request i is due at pacer.offsetOf(i). It is dispatched as soon as the thread sees it
 * is due, whatever else is in flight; if every connection is busy it waits in undici's queue and
 * the wait shows up as send lag. Its latency counts from the intended time, so a request that left
 * late carries its lateness, as the user who sent it would have felt it. The engine never slows the
 * schedule down to match the server (coordinated omission); when it falls behind, it sends the late
 * requests as soon as it can and the lag is in every result.
 *
 * Hot path economy (per request): no timers (one scheduling timer and one timeout sweep per thread),
 * no closures, no header objects (dispatch options are prepared once per target), and handler
 * objects are recycled. What remains is what undici allocates, plus the Result itself.
 *
 * Timing: the schedule is checked when the timer fires and after every batch of completions (a
 * microtask), so at high rates, where completions arrive every few microseconds, requests leave
 * close to their due time even though timers have a 1 ms grain.
 */

export interface RunnerConfig {
  plan: Plan;
  clock: Clock;
  /** null = max mode: keep `maxInFlight` requests in flight. */
  pacer: Pacer | null;
  durationNs: number;
  timeoutNs: number;
  /** This thread's share of the schedule: requests first, first+stride, first+2·stride, ... */
  first: number;
  stride: number;
  maxInFlight: number;
  /**
   * Paced mode: at most this many requests in flight on this thread (0 = no cap). A due request
   * beyond it is never queued in memory: it stays a number (the next request to send), goes out
   * late when a completion makes room (its lag recorded), or, if the schedule ends first, is
   * counted in `overdue`.
   */
  inFlightCap?: number;
  name: string;
  redirects: number;
  maxBody: number;
  keepHeaders: boolean;
  /** How long a stop() waits for the requests in flight before recording them as interrupted, ns. */
  drainNs?: number;
  /** Sub-ms wake-ups for the pacer (see metronome.ts); without one, timers (1 ms grain) alone. */
  metronome?: Metronome | null;
  emit: (r: Result) => void;
}

export interface RunnerSummary {
  /** Requests handed to undici. */
  sent: number;
  /** True when stop() ended the schedule before its planned end. */
  stopped: boolean;
  /** Requests of this thread's share due before the schedule ended that were never sent. */
  overdue: number;
  /** The most requests this thread had in flight at once. */
  peakInFlight: number;
  /** How late this thread's first request left, ns (its start, as it happened); -1 when none was sent. */
  firstLagNs: number;
}

/** With a metronome, the pacer's timer fires this long after a due time, only if the metronome did not. */
const FALLBACK_NS = 2e6;

/** Requests sent in one go when behind schedule before the event loop gets a turn. */
const MAX_BURST = 64;

/**
 * A timer that fires a little late at the end of the schedule still sends the requests that were
 * due before the end, for this long; past it, whatever is still unsent is counted (overdue), so a
 * generator far behind never goes on sending its backlog after -duration.
 */
const END_GRACE_NS = 250e6;

/** Default wait of a stop() for the requests in flight (`-drain`), ns. */
export const DEFAULT_DRAIN_NS = 5e9;

const RUNNING = 1;
const DRAINING = 2;
const DONE = 3;

/** One request in flight; recycled. Implements undici's (internal, allocation-free) handler API. */
class Exchange {
  seq = 0;
  intended = 0;
  dispatched = 0;
  started = -1;
  code = 0;
  bytesIn = 0;
  target: PreparedTarget | null = null;
  abortFn: ((err?: Error) => void) | null = null;
  /** The result is already recorded (timed out while queued); undici still holds the handler. */
  orphan = false;
  timedOut = false;
  /** In the runner's in-flight list. */
  linked = false;
  prev: Exchange | null = null;
  next: Exchange | null = null;
  chunks: Buffer[] | null = null;
  kept = 0;
  headers: Record<string, string[]> | null = null;
  location: string | null = null;
  redirectCount = 0;
  redirectError = '';
  currentUrl = '';
  currentMethod = '';
  /** The connection carrying it (set by HostPool). */
  conn: Conn | null = null;

  constructor(readonly runner: Runner) {}

  onConnect(abort: (err?: Error) => void): void {
    if (this.orphan) throw DROPPED;
    this.abortFn = abort;
    // Taken at once by a connection while fire() hands it over: it left at the time fire() read.
    if (this.started < 0) this.started = this.runner.firing === this ? this.dispatched : this.runner.clock.nowNs();
  }

  onHeaders(statusCode: number, raw: Buffer[], _resume: () => void, _statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx informational: the final status follows
    this.code = statusCode;
    const r = this.runner;
    if (r.keepHeaders) this.headers = parseRawHeaders(raw);
    if (r.follows(statusCode)) {
      for (let i = 0; i < raw.length; i += 2) {
        if (raw[i]!.length === 8 && raw[i]!.toString('latin1').toLowerCase() === 'location') {
          this.location = raw[i + 1]!.toString('latin1');
          break;
        }
      }
    }
    return true;
  }

  /** Raw headers are built only when this response needs them (kept, or a redirect to follow). */
  wantsHeaders(statusCode: number): boolean {
    const r = this.runner;
    return r.keepHeaders || r.follows(statusCode);
  }

  onData(chunk: Buffer): boolean {
    this.bytesIn += chunk.length;
    const max = this.runner.maxBody;
    if (max !== 0 && (max < 0 || this.kept < max)) {
      const take = max < 0 ? chunk.length : Math.min(chunk.length, max - this.kept);
      // Copy: undici may reuse the chunk's memory once we return.
      (this.chunks ??= []).push(Buffer.from(chunk.subarray(0, take)));
      this.kept += take;
    }
    return true;
  }

  onComplete(_trailers: unknown): void {
    this.runner.done(this, null);
  }

  onError(err: Error): void {
    this.runner.done(this, err);
  }

  onUpgrade(): void {
    // Not requested; undici only calls this for upgrade/CONNECT requests.
  }
}

const TIMEOUT_ERR = new AttackTimeout();
const DROPPED = new DroppedAfterTimeout();

export class Runner {
  readonly clock: Clock;
  readonly keepHeaders: boolean;
  readonly redirects: number;
  readonly maxBody: number;
  private readonly plan: Plan;
  private readonly targets: PreparedTarget[];
  private readonly pacer: Pacer | null;
  private readonly endNs: number;
  private readonly timeoutNs: number;
  private readonly stride: number;
  private readonly maxInFlight: number;
  private readonly name: string;
  private readonly emit: (r: Result) => void;
  private readonly drainNs: number;
  private readonly metronome: Metronome | null;
  private readonly inFlightCap: number;
  private readonly first: number;
  private overdue = 0;
  peakInFlight = 0;

  private state = 0;
  private nextIndex: number;
  private nextOffset = 0;
  /** Requests handed to undici. */
  sent = 0;
  private firstLagNs = -1;
  inFlight = 0;
  private stopped = false;
  private stops = 0;
  private head: Exchange | null = null;
  private tail: Exchange | null = null;
  private readonly free: Exchange[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private sweepTimer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private pumpQueued = false;
  /** The exchange fire() is handing to its pool right now (its onConnect needs no clock read). */
  firing: Exchange | null = null;
  private immediateQueued = false;
  private resolveDone: ((s: RunnerSummary) => void) | null = null;
  readonly finished: Promise<RunnerSummary>;

  constructor(c: RunnerConfig) {
    this.plan = c.plan;
    this.targets = c.plan.targets;
    this.clock = c.clock;
    this.pacer = c.pacer;
    this.endNs = c.durationNs > 0 ? c.durationNs : Infinity;
    this.timeoutNs = c.timeoutNs;
    this.stride = c.stride;
    this.nextIndex = c.first;
    this.maxInFlight = c.maxInFlight;
    this.name = c.name;
    this.redirects = c.redirects;
    this.maxBody = c.maxBody;
    this.keepHeaders = c.keepHeaders;
    this.emit = c.emit;
    this.drainNs = c.drainNs ?? DEFAULT_DRAIN_NS;
    this.inFlightCap = c.inFlightCap && c.inFlightCap > 0 ? c.inFlightCap : Infinity;
    this.first = c.first;
    this.metronome = c.pacer ? (c.metronome ?? null) : null;
    this.metronome?.attach(c.clock, this.pump);
    this.finished = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Starts walking the schedule (the clock's offset 0 may still be slightly in the future). */
  start(): void {
    this.state = RUNNING;
    if (this.pacer) {
      this.nextOffset = this.pacer.offsetOf(this.nextIndex);
      this.armTimer(this.nextOffset, this.clock.nowNs());
    } else {
      const wait = -this.clock.nowNs() / 1e6;
      if (wait > 0) this.timer = setTimeout(this.onTimer, wait);
      else this.pump();
    }
  }

  /**
   * Stops scheduling; requests in flight get up to drainNs (and their timeout), then whatever is
   * still in flight is recorded as interrupted and `finished` resolves. A second stop() (the user
   * will not wait) records them as interrupted at once.
   */
  stop(): void {
    this.stops++;
    if (this.state === RUNNING || this.state === 0) {
      this.stopped = true;
      this.endSchedule();
    }
    // Also when the schedule had already ended by itself and its last requests were in flight.
    if (!this.isDraining() || this.inFlight === 0) return;
    if (this.stops === 1) {
      const limit = this.timeoutNs > 0 ? Math.min(this.timeoutNs + 1e9, this.drainNs) : this.drainNs;
      this.drainTimer = setTimeout(this.abandon, limit / 1e6);
    } else {
      if (this.drainTimer !== null) clearTimeout(this.drainTimer);
      this.drainTimer = null;
      this.abandon();
    }
  }

  private isDraining(): boolean {
    return this.state === DRAINING;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    this.pump();
  };

  private readonly pump = (): void => {
    this.pumpQueued = false;
    if (this.state !== RUNNING) return;
    const now = this.clock.nowNs();
    const pacer = this.pacer;
    if (pacer === null) {
      if (now >= this.endNs) return this.endSchedule();
      while (this.inFlight < this.maxInFlight) {
        this.fire(this.nextIndex, now, now);
        this.nextIndex += this.stride;
      }
      if (this.timer === null && this.endNs !== Infinity) this.armTimer(this.endNs, now);
      return;
    }
    // Past the end of the schedule (and its grace) nothing more is sent, however far behind: a
    // backlog is counted (overdue), never sent after -duration.
    if (now >= this.endNs + END_GRACE_NS) return this.endSchedule();
    let off = this.nextOffset;
    let burst = 0;
    while (off <= now) {
      if (off >= this.endNs) return this.endSchedule();
      // At the cap, the due request waits as a number: a completion (record -> schedulePump) sends it.
      if (this.inFlight >= this.inFlightCap) {
        if (this.endNs !== Infinity) this.armEndTimer(now);
        return;
      }
      if (++burst > MAX_BURST) {
        // Far behind (a stall): send the rest after the event loop has had a turn, so completions
        // free connections instead of every late request opening a new one. Lag is recorded.
        if (!this.immediateQueued) {
          this.immediateQueued = true;
          setImmediate(this.onImmediate);
        }
        return;
      }
      this.fire(this.nextIndex, off, now);
      this.nextIndex += this.stride;
      off = this.nextOffset = pacer.offsetOf(this.nextIndex);
    }
    if (off >= this.endNs) return this.endSchedule();
    this.armTimer(off, now);
  };

  private readonly onImmediate = (): void => {
    this.immediateQueued = false;
    this.pump();
  };

  private armTimer(atNs: number, nowNs: number): void {
    if (this.metronome !== null && atNs !== this.endNs) {
      this.metronome.publish(this.nextIndex);
      // The timer stays as a safety net, a little after the metronome should have fired.
      atNs += FALLBACK_NS;
    }
    if (this.timer !== null) {
      if (this.timerAt <= atNs) return;
      clearTimeout(this.timer);
    }
    this.timerAt = atNs;
    this.timer = setTimeout(this.onTimer, Math.max(0, (atNs - nowNs) / 1e6));
  }

  /** A plain timer for the end of the schedule's grace (the metronome only wakes for due requests). */
  private armEndTimer(nowNs: number): void {
    const at = this.endNs + END_GRACE_NS;
    if (this.timer !== null) {
      if (this.timerAt <= at) return;
      clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.max(0, (at - nowNs) / 1e6));
  }

  private schedulePump(): void {
    if (!this.pumpQueued && this.state === RUNNING) {
      this.pumpQueued = true;
      queueMicrotask(this.pump);
    }
  }

  private fire(seq: number, intended: number, now: number): void {
    const ex = this.free.pop() ?? new Exchange(this);
    const t = this.targets[seq % this.targets.length]!;
    ex.seq = seq;
    ex.intended = intended;
    ex.dispatched = now;
    ex.target = t;
    ex.currentUrl = t.url;
    ex.currentMethod = t.method;
    this.link(ex);
    if (this.sent === 0) this.firstLagNs = now > intended ? Math.round(now - intended) : 0;
    this.sent++;
    this.firing = ex;
    t.pool.dispatch(t.opts, ex, now - intended);
    this.firing = null;
  }

  private link(ex: Exchange): void {
    ex.linked = true;
    ex.prev = this.tail;
    ex.next = null;
    if (this.tail) this.tail.next = ex;
    else this.head = ex;
    this.tail = ex;
    if (++this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    if (this.sweepTimer === null && this.timeoutNs > 0) this.armSweep(this.clock.nowNs());
  }

  private unlink(ex: Exchange): void {
    if (!ex.linked) return;
    ex.linked = false;
    if (ex.prev) ex.prev.next = ex.next;
    else this.head = ex.next;
    if (ex.next) ex.next.prev = ex.prev;
    else this.tail = ex.prev;
    ex.prev = ex.next = null;
    this.inFlight--;
  }

  /** undici is done with an exchange (completed or failed). */
  done(ex: Exchange, err: Error | null): void {
    if (ex.conn !== null) ex.conn.pool.finished(ex);
    if (ex.orphan) return this.release(ex);
    // A Location is kept only from a response follows() chose (onHeaders).
    if (err === null && ex.location !== null && this.follow(ex)) return;
    const end = this.clock.nowNs();
    let text = '';
    if (err !== null) text = ex.timedOut ? TIMEOUT : errorText(err);
    else if (ex.redirectError !== '') text = ex.redirectError;
    else if (ex.code < 200 || ex.code >= 400) text = statusError(ex.code); // as vegeta: "404 Not Found"
    this.record(ex, end, text);
    this.release(ex);
  }

  private record(ex: Exchange, end: number, error: string): void {
    this.unlink(ex);
    const t = ex.target!;
    let lag: number;
    if (ex.started >= 0) lag = ex.started - ex.intended;
    else if (error === TIMEOUT) lag = end - ex.intended; // never left within the timeout
    else lag = ex.dispatched - ex.intended; // failed before a connection was ready (refused, ...)
    let body: Uint8Array | null = null;
    if (ex.chunks !== null) body = ex.chunks.length === 1 ? ex.chunks[0]! : Buffer.concat(ex.chunks);
    const r: Result = {
      attack: this.name,
      seq: ex.seq,
      code: ex.code,
      timestamp: this.clock.epochOf(ex.intended),
      latency: Math.round(end - ex.intended),
      sendLag: lag > 0 ? Math.round(lag) : 0,
      bytesOut: t.bytesOut,
      bytesIn: ex.bytesIn,
      error,
      body,
      method: t.method,
      url: t.url,
      headers: ex.headers,
    };
    this.emit(r);
    if (this.state === RUNNING) this.schedulePump();
    else if (this.state === DRAINING && this.inFlight === 0) this.finish();
  }

  private release(ex: Exchange): void {
    ex.target = null;
    ex.abortFn = null;
    ex.orphan = false;
    ex.timedOut = false;
    ex.started = -1;
    ex.code = 0;
    ex.bytesIn = 0;
    ex.chunks = null;
    ex.kept = 0;
    ex.headers = null;
    ex.location = null;
    ex.redirectCount = 0;
    ex.redirectError = '';
    if (this.free.length < 65536) this.free.push(ex);
  }

  /**
   * The one redirect decision: whether a response with this status is a redirect this run follows
   * (as Go's http.Client: 301, 302, 303, 307, 308; none with -redirects=-1). Its Location is read,
   * its raw headers are built, and it is followed only then.
   */
  follows(code: number): boolean {
    return this.redirects >= 0 && (code === 301 || code === 302 || code === 303 || code === 307 || code === 308);
  }

  /** Follows a redirect as Go's http.Client does (vegeta's -redirects); false = record this response. */
  private follow(ex: Exchange): boolean {
    const loc = ex.location!;
    ex.location = null;
    if (ex.redirectCount >= this.redirects) {
      ex.redirectError = `stopped after ${this.redirects} redirects`;
      return false;
    }
    let next: URL;
    try {
      next = new URL(loc, ex.currentUrl);
    } catch {
      ex.redirectError = `invalid redirect location "${loc}"`;
      return false;
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      ex.redirectError = `unsupported redirect location "${loc}"`;
      return false;
    }
    const t = ex.target!;
    // 303, and 301/302 after anything but GET/HEAD, become GET without a body (as browsers and Go do).
    const toGet = ex.code === 303 ? ex.currentMethod !== 'HEAD' : (ex.code === 301 || ex.code === 302) && ex.currentMethod !== 'GET' && ex.currentMethod !== 'HEAD';
    const method = toGet ? 'GET' : ex.currentMethod;
    const body = toGet ? null : t.body;
    ex.redirectCount++;
    ex.currentUrl = next.href;
    ex.currentMethod = method;
    ex.code = 0;
    ex.bytesIn = 0;
    ex.chunks = null;
    ex.kept = 0;
    ex.headers = null;
    ex.abortFn = null;
    const pool = this.plan.poolFor(next.origin);
    const opts = this.plan.dispatchOptions(next.pathname + next.search, method, t.headers, body, t.traceAttackId);
    // Out of undici's callback before dispatching again (redirects are rare: a closure is fine).
    queueMicrotask(() => pool.dispatch(opts, ex));
    return true;
  }

  // ---- timeouts: one timer for the oldest request in flight (the list is in dispatch order) ----

  private armSweep(now: number): void {
    const h = this.head;
    if (h === null) return;
    this.sweepTimer = setTimeout(this.sweep, Math.max(1, (h.dispatched + this.timeoutNs - now) / 1e6));
  }

  private readonly sweep = (): void => {
    this.sweepTimer = null;
    const now = this.clock.nowNs();
    let h = this.head;
    while (h !== null && h.dispatched + this.timeoutNs <= now) {
      this.expire(h, now, TIMEOUT);
      h = this.head;
    }
    this.armSweep(now);
  };

  private expire(ex: Exchange, now: number, text: string): void {
    if (ex.abortFn !== null && text === TIMEOUT) {
      ex.timedOut = true;
      ex.abortFn(TIMEOUT_ERR); // undici calls onError synchronously, which records "timeout"
      if (!ex.linked) return;
    }
    // Still queued in undici (never sent), or undici did not call back: record now, and drop the
    // request when undici gets to it (onConnect throws).
    ex.orphan = true;
    this.record(ex, now, text);
  }

  /** A stop with no timeout waited drainNs: whatever is still in flight is recorded as interrupted. */
  private readonly abandon = (): void => {
    this.drainTimer = null;
    const now = this.clock.nowNs();
    while (this.head !== null) this.expire(this.head, now, 'interrupted: still in flight at the end of the drain');
  };

  // ---- ending ----

  private endSchedule(): void {
    if (this.state !== RUNNING && this.state !== 0) return;
    this.state = DRAINING;
    this.overdue = this.countOverdue();
    this.metronome?.publish(Infinity);
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight === 0) this.finish();
  }

  private finish(): void {
    if (this.state === DONE) return;
    this.state = DONE;
    this.metronome?.publish(Infinity);
    for (const t of [this.timer, this.sweepTimer, this.drainTimer]) if (t !== null) clearTimeout(t);
    this.timer = this.sweepTimer = this.drainTimer = null;
    this.resolveDone?.({ sent: this.sent, stopped: this.stopped, overdue: this.overdue, peakInFlight: this.peakInFlight, firstLagNs: this.firstLagNs });
  }

  /** This thread's requests due before now (and before the end) that were not sent. */
  private countOverdue(): number {
    if (this.pacer === null) return 0;
    const due = countBefore(this.pacer, Math.min(this.clock.nowNs(), this.endNs));
    if (!Number.isFinite(due)) return 0;
    const mine = due > this.first ? Math.ceil((due - this.first) / this.stride) : 0;
    const fired = (this.nextIndex - this.first) / this.stride;
    return Math.max(0, mine - fired);
  }
}

function parseRawHeaders(raw: Buffer[]): Record<string, string[]> {
  const h: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toString('latin1');
    (h[k] ??= []).push(raw[i + 1]!.toString('latin1'));
  }
  return h;
}
