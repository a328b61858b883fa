// Shared helpers of the log tests: temp directories that are removed after each test, and
// error-code assertions.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { LogError, type LogErrorCode } from '../../src/log/index.js';

const cleanups = new WeakMap<TestContext, (() => void)[]>();

/** Runs `fn` when the test ends, after the cleanups deferred later (last in, first out). */
export function defer(t: TestContext, fn: () => void): void {
  let stack = cleanups.get(t);
  if (stack === undefined) {
    const fns: (() => void)[] = [];
    cleanups.set(t, fns);
    t.after(() => {
      for (const f of fns.reverse()) f();
    });
    stack = fns;
  }
  stack.push(fn);
}

/** A fresh directory under the OS temp dir, removed when the test ends (after what uses it closes). */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-log-test-'));
  defer(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts that `fn` throws a LogError with `code`. */
export function throwsCode(fn: () => unknown, code: LogErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LogError, `expected a LogError, got ${String(err)}`);
    assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
    return true;
  });
}

/** A value whose content tells which offset it should be stored at. */
export function valueFor(offset: number, size = 0): Buffer {
  const text = `value-${offset}`;
  return size <= text.length
    ? Buffer.from(text)
    : Buffer.concat([Buffer.from(text), Buffer.alloc(size - text.length, offset % 251)]);
}
