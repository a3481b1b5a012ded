import { describe, expect, it } from 'vitest';
import { parseResetDuration, rateLimitHintMs } from '../../src/attempt/rate-limit-hint.js';

const now = Date.parse('2026-11-28T12:00:00Z');

describe('the pause hint of a 429', () => {
  it('prefers retry-after-ms, fractional or long', () => {
    expect(rateLimitHintMs(new Headers({ 'retry-after-ms': '1500.5', 'retry-after': '9' }), now)).toBe(1500.5);
    expect(rateLimitHintMs(new Headers({ 'retry-after-ms': '7200000' }), now)).toBe(7_200_000);
  });

  it('reads retry-after in seconds at any length', () => {
    expect(rateLimitHintMs(new Headers({ 'retry-after': '2' }), now)).toBe(2_000);
    expect(rateLimitHintMs(new Headers({ 'retry-after': '86400' }), now)).toBe(86_400_000);
    expect(rateLimitHintMs({ 'retry-after': '0.25' }, now)).toBe(250);
  });

  it('reads retry-after as an HTTP date, and a past date as no pause', () => {
    expect(rateLimitHintMs(new Headers({ 'retry-after': 'Sat, 28 Nov 2026 12:00:30 GMT' }), now)).toBe(30_000);
    expect(rateLimitHintMs(new Headers({ 'retry-after': 'Sat, 28 Nov 2026 11:00:00 GMT' }), now)).toBe(0);
  });

  it('falls back to the longer of the x-ratelimit-reset headers', () => {
    const headers = new Headers({ 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-reset-tokens': '6m0s' });
    expect(rateLimitHintMs(headers, now)).toBe(360_000);
    expect(rateLimitHintMs(new Headers({ 'x-ratelimit-reset-requests': '250ms' }), now)).toBe(250);
  });

  it('gives null when there is no usable hint', () => {
    expect(rateLimitHintMs(new Headers(), now)).toBeNull();
    expect(rateLimitHintMs(new Headers({ 'retry-after': 'soon', 'retry-after-ms': 'x' }), now)).toBeNull();
    expect(rateLimitHintMs(undefined, now)).toBeNull();
  });

  it('parses OpenAI reset durations and rejects anything else', () => {
    expect(parseResetDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseResetDuration('20ms')).toBe(20);
    expect(parseResetDuration('1.5s')).toBe(1_500);
    expect(parseResetDuration('')).toBeNull();
    expect(parseResetDuration('5 minutes')).toBeNull();
    expect(parseResetDuration('1s junk')).toBeNull();
  });
});
