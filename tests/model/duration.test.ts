import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/model/duration.js';
import { DurationError } from '../../src/model/errors.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['1m30s', 90_000],
    ['0ms', 0],
    [' 2s ', 2_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text, '--x')).toBe(ms);
  });

  it.each(['', '5', '5x', 's', '-1s', '1 s', '1.s', 'abc'])('refuses %j, naming the option and the value', (text) => {
    expect(() => parseDuration(text, '--attempt-timeout')).toThrow(DurationError);
    expect(() => parseDuration(text, '--attempt-timeout')).toThrow(`--attempt-timeout: expected a duration such as 500ms, 30s, 5m or 1h, got ${JSON.stringify(text)}`);
  });

  it('suggests a unit for a bare number', () => {
    expect(() => parseDuration('30', '--deadline')).toThrow('(add a unit: 30ms or 30s?)');
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850 ms'],
    [1_234, '1.2 s'],
    [12_300, '12 s'],
    [245_000, '4 m 05 s'],
    [3_720_000, '1 h 02 m'],
  ])('shows %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
