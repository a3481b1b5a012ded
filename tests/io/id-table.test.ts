import { describe, expect, it } from 'vitest';
import { IdTable } from '../../src/io/id-table.js';

describe('IdTable', () => {
  it('stores and finds many ids exactly, through growth', () => {
    const table = new IdTable();
    const n = 50_000;
    for (let i = 0; i < n; i += 1) table.set(`item-${i}`, i + 1);
    expect(table.size).toBe(n);
    for (let i = 0; i < n; i += 997) expect(table.get(`item-${i}`)).toBe(i + 1);
    expect(table.get('item-50000')).toBeUndefined();
    expect(table.get('item-')).toBeUndefined();
  });

  it('tells apart ids whose hashes collide, and handles empty, long and non-ASCII ids', () => {
    const table = new IdTable();
    // "costarring" and "liquid" collide under 32-bit FNV-1a.
    table.set('costarring', 1);
    table.set('liquid', 2);
    table.set('', 3);
    table.set('ü'.repeat(500), 4);
    table.set('日本語', 5);
    expect([table.get('costarring'), table.get('liquid'), table.get(''), table.get('ü'.repeat(500)), table.get('日本語')]).toEqual([1, 2, 3, 4, 5]);
    expect(table.get('ü'.repeat(499))).toBeUndefined();
  });

  it('keeps one entry per id, the latest value', () => {
    const table = new IdTable();
    table.set('a', 1);
    table.set('a', 7);
    expect(table.size).toBe(1);
    expect(table.get('a')).toBe(7);
  });

  it('keeps ids exact across arena pages, with ids longer than a page among them', () => {
    const table = new IdTable();
    // 1 MB pages: 200,000 entries of ~20 bytes fill several, and ids of 1.5 MB and of exactly
    // a page's remainder land between them.
    const long = 'x'.repeat(1_500_000);
    for (let i = 0; i < 200_000; i += 1) {
      table.set(`record-${i}`, i);
      if (i === 70_000) table.set(long, 7);
      if (i === 140_000) table.set(`${long}y`, 8);
    }
    expect(table.size).toBe(200_002);
    for (let i = 0; i < 200_000; i += 1) if (table.get(`record-${i}`) !== i) throw new Error(`record-${i}: ${String(table.get(`record-${i}`))}`);
    expect([table.get(long), table.get(`${long}y`), table.get(`${long}z`)]).toEqual([7, 8, undefined]);
  });
});
