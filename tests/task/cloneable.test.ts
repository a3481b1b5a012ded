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

  it("reports a getter that throws with the getter's error, rather than throwing", () => {
    const value = {};
    Object.defineProperty(value, 'late', { enumerable: true, get: () => { throw new Error('not loaded'); } });
    expect(uncloneablePart({ value })).toBe('not loaded');
  });
});
