import { gzipSync } from 'node:zlib';
import {
  Function as PprofFunction,
  Label,
  Line,
  Location,
  Mapping,
  Profile,
  Sample,
  StringTable,
  ValueType,
} from 'pprof-format';

/**
 * Builds a pprof Profile from frames and stacks, deduplicating strings, functions and locations.
 * Every converter (V8 CPU profile, V8 heap sampling, lock contention) goes through this one builder,
 * so the profiles they produce follow the same conventions:
 * - one Function per (name, file, start line, column), one Location per (function, line);
 * - samples list locations leaf first, as pprof requires;
 * - one Mapping, fully symbolized (functions, files, lines): JavaScript has no binary to map, but
 *   `go tool pprof` then names the program ("File: node") instead of warning about it.
 */

/** A source frame: what a stack is made of. `line` is 1-based (pprof's convention); 0 = unknown. */
export interface Frame {
  name: string;
  file: string;
  line: number;
  /** Column, 1-based, to tell apart functions that share a line (minified code); 0 = unknown. */
  column?: number;
}

export interface ProfileShape {
  /** [type, unit] pairs, e.g. [['samples', 'count'], ['cpu', 'nanoseconds']]. */
  sampleTypes: Array<[string, string]>;
  periodType: [string, string];
  period: number;
  /** Sample type shown by default (pprof shows the last one otherwise). */
  defaultSampleType?: string;
  /** Wall clock at the start of the profile, ns since the epoch (0 = unknown). */
  timeNanos?: bigint;
  durationNanos?: number;
  /** Free text carried in the profile (`go tool pprof -comments`). */
  comments?: string[];
  /** Program name shown as pprof's "File:" (default "node"). */
  program?: string;
}

export class ProfileBuilder {
  private readonly strings = new StringTable();
  private readonly functions = new Map<string, PprofFunction>();
  private readonly locations = new Map<string, Location>();
  private readonly samples: Sample[] = [];

  constructor(private readonly shape: ProfileShape) {}

  /** The location id of a frame (created on first use). */
  location(frame: Frame): number {
    const column = frame.column ?? 0;
    const fnKey = `${frame.name}\0${frame.file}\0${frame.line}\0${column}`;
    let loc = this.locations.get(fnKey);
    if (!loc) {
      let fn = this.functions.get(fnKey);
      if (!fn) {
        const name = this.strings.dedup(frame.name);
        fn = new PprofFunction({
          id: this.functions.size + 1,
          name,
          systemName: name,
          filename: this.strings.dedup(frame.file),
          startLine: frame.line,
        });
        this.functions.set(fnKey, fn);
      }
      loc = new Location({
        id: this.locations.size + 1,
        mappingId: 1,
        line: [new Line({ functionId: fn.id, line: frame.line, column })],
      });
      this.locations.set(fnKey, loc);
    }
    return Number(loc.id);
  }

  /** Adds a sample; `locationIds` leaf first; `values` in the order of `sampleTypes`. */
  sample(locationIds: number[], values: number[], labels?: Record<string, string | number>): void {
    const label: Label[] = [];
    for (const [key, v] of Object.entries(labels ?? {})) {
      label.push(
        typeof v === 'number'
          ? new Label({ key: this.strings.dedup(key), num: v })
          : new Label({ key: this.strings.dedup(key), str: this.strings.dedup(v) }),
      );
    }
    this.samples.push(new Sample({ locationId: locationIds, value: values.map(Math.round), label }));
  }

  build(): Profile {
    const s = this.shape;
    const vt = ([type, unit]: [string, string]) =>
      new ValueType({ type: this.strings.dedup(type), unit: this.strings.dedup(unit) });
    const sampleType = s.sampleTypes.map(vt);
    const periodType = vt(s.periodType);
    const comment = (s.comments ?? []).map((c) => this.strings.dedup(c));
    const defaultSampleType = s.defaultSampleType ? this.strings.dedup(s.defaultSampleType) : 0;
    const mapping = new Mapping({
      id: 1,
      filename: this.strings.dedup(s.program ?? 'node'),
      hasFunctions: true,
      hasFilenames: true,
      hasLineNumbers: true,
    });
    return new Profile({
      sampleType,
      mapping: [mapping],
      sample: this.samples,
      location: [...this.locations.values()],
      function: [...this.functions.values()],
      stringTable: this.strings,
      timeNanos: s.timeNanos ?? 0n,
      durationNanos: Math.round(s.durationNanos ?? 0),
      periodType,
      period: Math.round(s.period),
      comment,
      defaultSampleType,
    });
  }
}

/** The bytes `go tool pprof` reads: the protobuf, gzipped (as Go's runtime/pprof writes it). */
export function encodeProfile(p: Profile): Buffer {
  return gzipSync(p.encode());
}
