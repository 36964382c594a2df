/** The page's data: the JSON document html.ts embeds, and its base64 typed arrays decoded. */
import type { Encoded, PlotData } from '../encode.js';

declare const document: any;

export const DATA: PlotData = JSON.parse(document.getElementById('tp-data').textContent);

export function bytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Decodes an embedded array (Float32/Float64/Uint8 as base64, or a plain JSON list). */
export function arr(e: Encoded | number[] | null | undefined): ArrayLike<number> {
  if (!e) return [];
  if (Array.isArray(e)) return e;
  if (e.f32 !== undefined) return new Float32Array(bytes(e.f32).buffer);
  if (e.f64 !== undefined) return new Float64Array(bytes(e.f64).buffer);
  if (e.u8 !== undefined) return bytes(e.u8);
  return [];
}

/** NaN (an empty bucket) becomes null: a gap in the line. */
export function nullable(a: ArrayLike<number>): (number | null)[] {
  const out = new Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isNaN(a[i]) ? null : a[i];
  return out;
}
