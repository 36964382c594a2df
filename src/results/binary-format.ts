/**
 * Constants of tailprobe's binary results format (version 1). The layout is specified in
 * docs/results-format.md; the encoder (binary-encoder.ts) and decoder (binary-decoder.ts) both
 * follow these numbers and nothing else.
 *
 * In short: a 9-byte file header, then records `[type: u8][length: varint][payload]`, so a reader can
 * skip record types it does not know and can tell a whole record from one cut off at the end.
 * Strings (attack, method, url, error, header names and values) are dictionary-coded within a
 * *segment* (from a RESET record to the next), which keeps a typical result near 15-20 bytes while
 * letting worker threads encode self-contained segments that the main thread simply concatenates.
 */

/** First byte of the file header; also a record type, so files concatenated with `cat` still read. */
export const HEADER_BYTE = 0x89;
/** The whole magic: \x89 "TPR" \r \n \x1a \n (as PNG: catches text-mode mangling and truncation). */
export const MAGIC = Uint8Array.of(0x89, 0x54, 0x50, 0x52, 0x0d, 0x0a, 0x1a, 0x0a);
/** Format version written after the magic. Readers refuse versions newer than they know. */
export const FORMAT_VERSION = 1;
/** Magic + version byte. */
export const HEADER_LENGTH = MAGIC.length + 1;

/** Record types. Types below 0x80 that a reader does not know are skipped by their length. */
export const REC_RESULT = 0x01;
/** Empties the string table and the delta state: starts a self-contained segment. No payload. */
export const REC_RESET = 0x02;
/** Run metadata: payload is [kind: u8][UTF-8 JSON]. */
export const REC_META = 0x03;

/** META kinds. */
export const META_INFO = 1;
export const META_HEALTH = 2;
export const META_EVENTS = 3;

/** Flag bits of a RESULT record (first payload byte). */
/** Timestamp is an absolute little-endian int64 instead of a zigzag varint delta from the previous result. */
export const F_TS_ABS = 0x01;
/** Status code omitted: same as the previous result in the segment. */
export const F_SAME_CODE = 0x02;
/** Attack, method and url omitted: same as the previous result in the segment. */
export const F_SAME_REQ = 0x04;
/** Bytes out and bytes in omitted: same as the previous result in the segment. */
export const F_SAME_BYTES = 0x08;
export const F_HAS_ERROR = 0x10;
export const F_HAS_BODY = 0x20;
export const F_HAS_HEADERS = 0x40;
/** Reserved for an extension byte; a version-1 reader rejects records that set it. */
export const F_RESERVED = 0x80;

/**
 * String references (varint `v`):
 *   v = 0                  the empty string
 *   v & 1 = 1              table[v >>> 1]
 *   v & 3 = 2              literal of (v >>> 2) bytes follows, and is appended to the table
 *   v & 3 = 0 (v > 0)      literal of (v >>> 2) bytes follows, not added to the table
 * The writer decides what enters the table (bounded by the limits below), so the reader needs no
 * policy of its own: it replays the writer's decisions.
 */
export const STR_TABLE_MAX_ENTRIES = 16384;
/** Longer strings are always written inline (a 2 KB error text repeated is rare; a 2 KB URL in a table is waste). */
export const STR_TABLE_MAX_LENGTH = 512;

/** Deltas beyond this (in ns) are written as absolute timestamps; keeps delta arithmetic exact in doubles. */
export const MAX_TS_DELTA = 2 ** 52;
