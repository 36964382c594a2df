/**
 * The HTTP/1 wire form of a header set, as vegeta's CSV results carry it (base64 of what Go's
 * http.Header.Write produces): keys sorted, one `Key: value\r\n` line per value, newlines in values
 * turned into spaces, values trimmed, invalid field names dropped.
 *
 * Header names are kept as written (Go would canonicalize them on read; vegeta's own files are
 * already canonical, and ours keep what the HTTP client reported, so round trips stay exact).
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function headerWireForm(headers: Record<string, string[]>): string {
  let out = '';
  for (const key of Object.keys(headers).sort()) {
    if (!TOKEN.test(key)) continue;
    for (const v of headers[key]!) {
      out += `${key}: ${v.replace(/[\r\n]/g, ' ').trim()}\r\n`;
    }
  }
  return out;
}

/** Parses a header block in wire form (as textproto.ReadMIMEHeader: continuation lines folded). */
export function parseHeaderWire(text: string): Record<string, string[]> | null {
  const out: Record<string, string[]> = {};
  let lastKey: string | null = null;
  let any = false;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && lastKey !== null) {
      const vals = out[lastKey]!;
      vals[vals.length - 1] = `${vals[vals.length - 1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    const key = line.slice(0, colon).trimEnd();
    const value = line.slice(colon + 1).trim();
    (out[key] ??= []).push(value);
    lastKey = key;
    any = true;
  }
  return any ? out : null;
}
