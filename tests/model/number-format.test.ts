import { describe, expect, it } from 'vitest';
import { formatNumber } from '../../src/model/number-format.js';

describe('formatNumber', () => {
  const intl = new Intl.NumberFormat('en-US');

  // First in the file: the formatter is cached once made. A whole number must not make one (the
  // first Intl formatter of a process loads ICU's locale data, 25–40 ms).
  it('formats whole numbers without an Intl formatter', () => {
    const Real = Intl.NumberFormat;
    let made = 0;
    Intl.NumberFormat = class extends Real {
      constructor(...args: ConstructorParameters<typeof Real>) {
        super(...args);
        made += 1;
      }
    } as typeof Real;
    try {
      expect(formatNumber(1_234_567)).toBe('1,234,567');
      expect(made).toBe(0);
      expect(formatNumber(0.5)).toBe('0.5');
      expect(made).toBe(1);
    } finally {
      Intl.NumberFormat = Real;
    }
  });

  it('groups whole numbers exactly as Intl.NumberFormat("en-US") does', () => {
    const values = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 12_345, 99_999, 100_000, 123_456, 999_999, 1_000_000, 1_234_567, 20_000_000, Number.MAX_SAFE_INTEGER];
    for (const value of values) {
      expect(formatNumber(value)).toBe(intl.format(value));
      expect(formatNumber(-value)).toBe(intl.format(-value));
    }
    // Every digit count, with every digit.
    for (let length = 1; length <= 16; length += 1) {
      const value = Number('9876543210987654'.slice(0, length));
      expect(formatNumber(value)).toBe(intl.format(value));
    }
  });

  it('prints anything that is not a safe integer as Intl does', () => {
    for (const value of [0.5, 1234.5678, -1234.5, 2 ** 60, Infinity, -Infinity, Number.NaN, -0, 1e21]) {
      expect(formatNumber(value)).toBe(intl.format(value));
    }
  });
});
