// Whether a task's value can cross to the main thread (src/task/cloneable.ts): plain data passes
// by a quick walk, anything else by a trial clone, and what cannot cross is named.
import { describe, expect, it } from 'vitest';
import { uncloneablePart } from '../../src/task/cloneable.js';

describe('uncloneablePart', () => {
  it('passes plain data, and values only a clone can judge: a Date, a Map, a typed array, a cycle', () => {
    expect(uncloneablePart({ id: 'x', choices: [{ message: { content: 'ok', refusal: null } }], n: 1n, list: [1, 'a', true, undefined] })).toBeNull();
    expect(uncloneablePart(Object.assign(Object.create(null) as object, { a: 1 }))).toBeNull();
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle['self'] = cycle;
    expect(uncloneablePart({ at: new Date(0), map: new Map([[1, 2]]), bytes: new Uint8Array(2), cycle })).toBeNull();
  });

  it('names a function or a symbol inside plain data', () => {
    expect(uncloneablePart({ nested: { render: () => 1 } })).toBe('value.nested.render is a function');
    expect(uncloneablePart({ tags: ['a', Symbol('b')] })).toBe('value.tags[1] is a symbol');
  });

  it('refuses a proxy of plain data, which structured clone cannot copy', () => {
    expect(uncloneablePart({ draft: new Proxy({ a: 1 }, {}) })).toMatch(/could not be cloned|cannot be copied/);
  });

  it('refuses what looks plain but the clone cannot copy: a function on an array, a module namespace, arguments', async () => {
    const rows: unknown[] & { format?: () => string } = [1, 2];
    rows.format = () => 'x';
    expect(uncloneablePart({ rows })).toBe('value.rows[format] is a function');
    const hidden = [1, () => 2];
    Object.defineProperty(hidden, Symbol.iterator, { value: function* () { yield 1; } });
    expect(uncloneablePart(hidden)).toBe('value[1] is a function');
    const namespace: unknown = await import('node:path');
    expect(uncloneablePart({ namespace })).not.toBeNull();
    const args = (function (..._: unknown[]) {
      return arguments;
    })(1, 2);
    expect(uncloneablePart(args)).not.toBeNull();
    // Each agrees with the clone itself.
    for (const value of [{ rows }, hidden, { namespace }, args]) expect(() => structuredClone(value)).toThrow();
  });

  it('leaves a large shared structure to the clone instead of walking every path to it', () => {
    let shared: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < 30; level += 1) shared = { left: shared, right: shared };
    // 2^30 paths to the leaf: a walk without its budget would outlast the test's timeout.
    expect(uncloneablePart(shared)).toBeNull();
  });

  it("reports a getter that throws with the getter's error, rather than throwing", () => {
    const value = {};
    Object.defineProperty(value, 'late', { enumerable: true, get: () => { throw new Error('not loaded'); } });
    expect(uncloneablePart({ value })).toBe('not loaded');
  });
});
