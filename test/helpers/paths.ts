import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { makeTempDir, REPO_ROOT } from '../../support/paths.js';

/** The repository root (sources and fixtures live there). */
export { REPO_ROOT };
/** The CLI launcher, as users run it. */
export const CLI = join(REPO_ROOT, 'bin', 'tailprobe.js');
/** Fixtures that are not TypeScript (Go sources, hand-written vegeta files) stay in test/fixtures. */
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
/** Screenshots and other artifacts a person may want to look at after a run. */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

const made = new Set<string>();

/**
 * A fresh temp dir, removed when the test file's process exits (node --test runs each file in its
 * own process), whether or not the test that made it removed it itself or got that far.
 */
export function tempDir(prefix = 'tailprobe-test-'): string {
  const dir = makeTempDir(prefix);
  if (made.size === 0) process.once('exit', removeTempDirs);
  made.add(dir);
  return dir;
}

function removeTempDirs(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      process.stderr.write(`tailprobe tests: could not remove ${dir}: ${(err as Error).message}\n`);
    }
  }
}
