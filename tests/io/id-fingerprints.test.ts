import { describe, expect, it } from 'vitest';
import { IdFingerprints, idFingerprint } from '../../src/io/id-fingerprints.js';

/** A table over an in-memory input: line n (1-based) has id ids[n - 1]. */
function tableOver(ids: string[], expected?: number): { table: IdFingerprints; confirms: () => number } {
  let confirms = 0;
  const table = new IdFingerprints((line, id) => {
    confirms += 1;
    return ids[line - 1] === id;
  }, expected);
  return { table, confirms: () => confirms };
}

describe('IdFingerprints', () => {
  it('finds every repeat with its first line and no others, through growth', () => {
    const ids = Array.from({ length: 60_000 }, (_, i) => `item-${i % 50_000}`);
    const { table, confirms } = tableOver(ids);
    const found = ids.map((id, index) => table.firstLine(id, index + 1));
    expect(found.slice(0, 50_000).every((first) => first === undefined)).toBe(true);
    expect(found.slice(50_000)).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    expect(table.size).toBe(50_000);
    // Each repeat is confirmed once; a unique id only when its fingerprint collides (rare).
    expect(confirms()).toBeLessThan(10_000 + 20);
  });

  it('confirms a fingerprint match against the input before calling it a repeat', () => {
    expect(idFingerprint('id-149599')).toBe(idFingerprint('id-312382'));
    const ids = ['id-149599', 'id-312382', 'id-312382'];
    const { table, confirms } = tableOver(ids, 3);
    expect(ids.map((id, index) => table.firstLine(id, index + 1))).toEqual([undefined, undefined, 2]);
    expect(confirms()).toBe(3);
  });
});
