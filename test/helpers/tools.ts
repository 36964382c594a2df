import type { TestContext } from 'node:test';
import { findTool } from '../../support/tools.js';

export { findTool, GO_CANDIDATES, CHROMIUM_CANDIDATES } from '../../support/tools.js';

/**
 * External tools some tests need (Go for pprof interop, Chromium for HTML, nginx/wrk for bench).
 * In CI (CI=true) a missing tool is a loud failure: .ci/run installs them, so absence is a bug.
 * Locally the test skips with a visible message naming what to install.
 */
export function requireTool(t: TestContext, name: string, candidates: string[] = [], install = name): string | null {
  const found = findTool(name, candidates);
  if (found) return found;
  const msg = `${name} not found (install with: apt-get install ${install})`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${msg}`);
  t.skip(`SKIPPED: ${msg}`);
  process.stderr.write(`\n*** SKIPPED ${t.name}: ${msg}\n`);
  return null;
}

/** libfaketime's preload library (Debian's libfaketime), wherever the architecture put it. */
export function libfaketimeCandidates(): string[] {
  return ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'i386-linux-gnu'].map((a) => `/usr/lib/${a}/faketime/libfaketime.so.1`);
}
