import { describe, expect, it } from 'vitest';
import { formatOpenAIDuration, hintHeaders } from '../../src/sim/rate-limit-headers.js';
import { RateLimits } from '../../src/sim/rate-limits.js';
import { SlidingWindow } from '../../src/sim/rate-window.js';

describe('SlidingWindow', () => {
  it('admits up to the limit per window and says when budget frees', () => {
    const window = new SlidingWindow(3, 1000);
    for (const t of [0, 100, 200]) {
      expect(window.waitFor(t, 1)).toBe(0);
      window.add(t, 1);
    }
    expect(window.waitFor(300, 1)).toBe(700); // the entry at t=0 leaves at t=1000
    expect(window.waitFor(1000, 1)).toBe(0);
    expect(window.remaining(1000)).toBe(1);
    expect(window.resetIn(1000)).toBe(200); // the newest entry (t=200) leaves at 1200
  });

  it('waits for several entries when a cost needs them', () => {
    const window = new SlidingWindow(100, 1000);
    window.add(0, 40);
    window.add(10, 40);
    expect(window.waitFor(20, 60)).toBe(980); // needs 40 freed: the t=0 entry leaves at 1000
    expect(window.waitFor(20, 90)).toBe(990); // needs 70 freed: both entries, the last leaves at 1010
    expect(window.waitFor(20, 101)).toBe(Infinity);
  });
});

describe('RateLimits', () => {
  it('scales per-minute limits to the window and reports them in per-minute units', () => {
    const limits = new RateLimits(600, undefined, 500); // 5 requests per 500 ms
    for (let i = 0; i < 5; i++) expect(limits.admit(i, 10)).toEqual({ admitted: true });
    expect(limits.admit(5, 10)).toEqual({ admitted: false, limit: 'requests', retryAfterMs: 495, tooLarge: false });
    expect(limits.requestsSnapshot(5)).toEqual({ limit: 600, remaining: 0, resetMs: 499 });
    expect(limits.tokensSnapshot(5)).toBeUndefined();
  });
});

describe('rate-limit headers', () => {
  it('formats durations the way OpenAI does', () => {
    expect(formatOpenAIDuration(0)).toBe('0s');
    expect(formatOpenAIDuration(250)).toBe('250ms');
    expect(formatOpenAIDuration(249.2)).toBe('250ms');
    expect(formatOpenAIDuration(1000)).toBe('1s');
    expect(formatOpenAIDuration(1500)).toBe('1.5s');
    expect(formatOpenAIDuration(360_000)).toBe('6m0s');
    expect(formatOpenAIDuration(3_723_000)).toBe('1h2m3s');
  });

  it('writes each hint form', () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0, 300);
    expect(hintHeaders({ header: 'retry-after-ms', ms: 1234 }, now)).toEqual({ 'retry-after-ms': '1234' });
    expect(hintHeaders({ header: 'retry-after', ms: 1001 }, now)).toEqual({ 'retry-after': '2' });
    expect(hintHeaders({ header: 'retry-after-date', ms: 2000 }, now)).toEqual({
      'retry-after': 'Wed, 01 Jan 2025 12:00:03 GMT', // 12:00:02.300 rounded up
    });
    expect(hintHeaders({ header: 'x-ratelimit-reset-tokens', ms: 90_000 }, now)).toEqual({
      'x-ratelimit-reset-tokens': '1m30s',
    });
    expect(hintHeaders({ header: 'none', ms: 5 }, now)).toEqual({});
  });
});
