import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** The repository root (tests run from dist/test/..., sources and fixtures live at the root). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The CLI launcher, as users run it. */
export const CLI = join(REPO_ROOT, 'bin', 'tailprobe.js');
/** Fixtures that are not TypeScript (Go sources, hand-written vegeta files) stay in test/fixtures. */
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
/** Screenshots and other artifacts a person may want to look at after a run. */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

export function tempDir(prefix = 'tailprobe-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
