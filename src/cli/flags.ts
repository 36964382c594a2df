import { UsageError } from '../errors.js';
import { parseDuration, formatDuration } from '../units/duration.js';
import { parseBytes } from '../units/bytes.js';

/**
 * Flag parsing that accepts both Go-style (`-rate=500`, `-rate 500`) and GNU-style (`--rate 500`,
 * `--rate=500`) spellings, because tailprobe's users come from vegeta and from everything else.
 * Flags and positionals may be interleaved; `--` ends flags. Bool flags never consume the next
 * argument (`-http2 targets.txt` is a flag and a file), as in Go; `-http2=false` turns one off.
 *
 * Values are converted and validated at parse time so that a bad value is a one-line usage error
 * naming the flag, before any work starts.
 */
export type FlagType = 'string' | 'int' | 'float' | 'bool' | 'duration' | 'bytes' | 'strings';

export interface FlagSpec {
  name: string;
  type: FlagType;
  /** Shown in --help and used when the flag is absent. Durations as text ("30s"), converted on parse. */
  default?: string | number | boolean | string[];
  help: string;
  /** Placeholder in help, e.g. "FILE". */
  value?: string;
  /** Other names for the same flag, e.g. ["o"] for "output". */
  aliases?: string[];
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Usage line after `tailprobe <name>`, e.g. "[flags] [FILE...]". */
  usage: string;
  /** Longer description printed under the usage line. */
  description?: string;
  flags: FlagSpec[];
  examples?: string[];
}

export type FlagValue = string | number | boolean | string[];

export class ParsedArgs {
  constructor(
    readonly command: string,
    private readonly values: Map<string, FlagValue>,
    /** Names of flags the user actually set (to tell an explicit value from a default). */
    readonly given: Set<string>,
    readonly positionals: string[],
  ) {}

  has(name: string): boolean {
    return this.given.has(name);
  }
  string(name: string): string {
    const v = this.get(name);
    return v === undefined ? '' : String(v);
  }
  /** Numbers: int, float, bytes, and durations (in nanoseconds). */
  number(name: string): number {
    const v = this.get(name);
    if (typeof v !== 'number') throw new Error(`flag -${name} is not numeric`);
    return v;
  }
  bool(name: string): boolean {
    return this.get(name) === true;
  }
  list(name: string): string[] {
    const v = this.get(name);
    return Array.isArray(v) ? v : v === undefined || v === '' ? [] : [String(v)];
  }
  private get(name: string): FlagValue | undefined {
    if (!this.values.has(name)) throw new Error(`internal: flag -${name} not declared for ${this.command}`);
    return this.values.get(name);
  }
}

export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs & { help: boolean } {
  const byName = new Map<string, FlagSpec>();
  for (const f of spec.flags) {
    byName.set(f.name, f);
    for (const a of f.aliases ?? []) byName.set(a, f);
  }
  const values = new Map<string, FlagValue>();
  const given = new Set<string>();
  for (const f of spec.flags) values.set(f.name, defaultValue(spec.name, f));

  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-') || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name === 'h' || name === 'help') {
      help = true;
      continue;
    }
    const f = byName.get(name);
    if (!f) {
      throw new UsageError(`${spec.name}: unknown flag -${name} (see 'tailprobe ${spec.name} --help')`);
    }
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (f.type === 'bool') raw = 'true';
    else {
      if (i + 1 >= argv.length) throw new UsageError(`${spec.name}: flag -${name} needs a value`);
      raw = argv[++i]!;
    }
    const v = convert(spec.name, f, raw);
    if (f.type === 'strings') {
      const prev = given.has(f.name) ? (values.get(f.name) as string[]) : [];
      values.set(f.name, [...prev, raw]);
    } else {
      values.set(f.name, v);
    }
    given.add(f.name);
  }
  const parsed = new ParsedArgs(spec.name, values, given, positionals) as ParsedArgs & { help: boolean };
  parsed.help = help;
  return parsed;
}

function defaultValue(cmd: string, f: FlagSpec): FlagValue {
  const d = f.default;
  if (f.type === 'strings') return Array.isArray(d) ? d : d === undefined ? [] : [String(d)];
  if (d === undefined) return f.type === 'bool' ? false : f.type === 'string' ? '' : 0;
  if (typeof d === 'string' && f.type !== 'string') return convert(cmd, f, d);
  return d;
}

function convert(cmd: string, f: FlagSpec, raw: string): FlagValue {
  const bad = (why = '') => new UsageError(`${cmd}: invalid value "${raw}" for flag -${f.name}${why}`);
  switch (f.type) {
    case 'string':
    case 'strings':
      return raw;
    case 'bool': {
      const t = raw.toLowerCase();
      if (['true', '1', 't', 'yes'].includes(t)) return true;
      if (['false', '0', 'f', 'no'].includes(t)) return false;
      throw bad(': expected true or false');
    }
    case 'int': {
      if (!/^[-+]?\d+$/.test(raw.trim())) throw bad(': expected an integer');
      return parseInt(raw, 10);
    }
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw bad(': expected a number');
      return n;
    }
    case 'duration':
      try {
        return parseDuration(raw);
      } catch {
        throw bad(': expected a duration like 30s, 500ms or 2m');
      }
    case 'bytes':
      try {
        return parseBytes(raw);
      } catch {
        throw bad(': expected a size like 512, 64KiB or 10MB');
      }
  }
}

/** The `--help` text: every flag with its default. */
export function formatHelp(spec: CommandSpec): string {
  const lines = [`Usage: tailprobe ${spec.name} ${spec.usage}`.trimEnd(), '', spec.summary];
  if (spec.description) lines.push('', spec.description.trimEnd());
  if (spec.flags.length) {
    lines.push('', 'Flags (write -flag=value, -flag value or --flag value):');
    const rows = spec.flags.map((f) => {
      const names = [f.name, ...(f.aliases ?? [])].map((n) => `-${n}`).join(', ');
      const ph = f.type === 'bool' ? '' : ` ${f.value ?? placeholder(f.type)}`;
      return [`  ${names}${ph}`, f.help + showDefault(f)];
    });
    const width = Math.min(34, Math.max(...rows.map((r) => r[0]!.length)) + 2);
    for (const [left, right] of rows) {
      if (left!.length + 1 > width) lines.push(left!, ' '.repeat(width) + right);
      else lines.push(left!.padEnd(width) + right);
    }
  }
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

function placeholder(t: FlagType): string {
  return { string: 'string', strings: 'value', int: 'int', float: 'number', duration: 'duration', bytes: 'size', bool: '' }[t];
}

function showDefault(f: FlagSpec): string {
  const d = f.default;
  if (d === undefined || d === '' || d === false || (Array.isArray(d) && d.length === 0)) return '';
  if (typeof d === 'number' && f.type === 'duration') return ` (default ${formatDuration(d)})`;
  return ` (default ${Array.isArray(d) ? d.join(',') : String(d)})`;
}
