// A fresh directory in os.tmpdir() for a test's files, removed with everything in it when the test
// is done: at the end of the current test when made in a test (or its beforeEach/afterEach, or a
// function either calls), else after the current describe block (or file) when made while the
// tests are collected, at describe or file level. Not in a beforeAll/afterAll: no test is current
// there, and an afterAll registered while the tests run is never called.

import { mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished, TestRunner } from 'vitest';
import { identityLockPath } from '../../src/io/run-lock.js';

/**
 * The identity locks (`batch-llm-<dev>-<ino>.lock` in the temp directory, src/io/run-lock.ts) of
 * the files under `dir`: a run killed with -9 on an existing results file leaves its lock there.
 */
function removeIdentityLocks(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    try {
      const info = statSync(join(dir, entry));
      if (info.isFile()) unlinkSync(identityLockPath(info));
    } catch {
      // No such lock (the usual case), or the file went away meanwhile.
    }
  }
}

function remove(dir: string): void {
  try {
    removeIdentityLocks(dir);
  } catch {
    // The directory is gone already.
  }
  // A child process that was just killed may still be letting go of a file in it.
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** mkdtemp of `<tmpdir>/<prefix>XXXXXX`, removed with everything in it once the test (or suite) is done. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (TestRunner.getCurrentTest() !== undefined) onTestFinished(() => remove(dir));
  else afterAll(() => remove(dir));
  return dir;
}
