import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { findGo } from '../../src/demo/go-service.js';
import { tempDir } from '../helpers/paths.js';

test('findGo takes the go file on PATH, not a folder named go (as /usr/local/go is), and falls back to GOROOT', () => {
  const root = tempDir('tailprobe-find-go-');
  try {
    const withFolder = join(root, 'local');
    mkdirSync(join(withFolder, 'go'), { recursive: true });
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'go'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(findGo({ PATH: [withFolder, bin].join(delimiter) }), join(bin, 'go'));
    assert.equal(findGo({ PATH: withFolder }), null);
    const goroot = join(root, 'goroot');
    mkdirSync(join(goroot, 'bin'), { recursive: true });
    writeFileSync(join(goroot, 'bin', 'go'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(findGo({ PATH: withFolder, GOROOT: goroot }), join(goroot, 'bin', 'go'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
