/** Parses a `since`/`until` query value (epoch ns as decimal digits); undefined when absent. */
export function parseNsParam(v: string | null): bigint | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d{1,20}$/.test(v)) throw new Error(`expected epoch nanoseconds, got "${v.slice(0, 40)}"`);
  return BigInt(v);
}
