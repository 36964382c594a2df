import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/support/, sources and fixtures live at the root). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A fresh temp dir; whoever makes it removes it (tests use test/helpers/paths.ts, which does). */
export function makeTempDir(prefix = 'tailprobe-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
