import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { describe, expect, it } from 'vitest';
import { categoryOfStatus, classifyError, isRetryable } from '../../src/attempt/classify.js';

function apiError(status: number, code: string | null, headers: Record<string, string> = {}): APIError {
  return APIError.generate(status, { error: { message: `status ${status}`, code } }, undefined, new Headers(headers));
}

describe('classifying a failed attempt', () => {
  it('maps statuses to categories as docs/architecture.md says', () => {
    expect(categoryOfStatus(429, 'rate_limit_exceeded')).toBe('rate_limit');
    expect(categoryOfStatus(429, null)).toBe('rate_limit');
    expect(categoryOfStatus(429, 'insufficient_quota')).toBe('quota');
    expect(categoryOfStatus(402, null)).toBe('quota');
    expect(categoryOfStatus(401, null)).toBe('auth');
    expect(categoryOfStatus(403, null)).toBe('auth');
    for (const status of [408, 409, 500, 502, 503, 504]) expect(categoryOfStatus(status, null)).toBe('transient');
    for (const status of [400, 404, 413, 422]) expect(categoryOfStatus(status, null)).toBe('bad_request');
  });

  it('reads the code and the pause hint of a rate limit from the client error', () => {
    const failure = classifyError(apiError(429, 'rate_limit_exceeded', { 'retry-after-ms': '700', 'x-request-id': 'req_1' }), Date.now());
    expect(failure).toMatchObject({ category: 'rate_limit', code: 'rate_limit_exceeded', status: 429, hintMs: 700, requestId: 'req_1' });
  });

  it('tells timeouts, aborts and connection failures apart', () => {
    expect(classifyError(new APIConnectionTimeoutError(), 0).category).toBe('timeout');
    expect(classifyError(new APIUserAbortError(), 0).category).toBe('aborted');
    expect(classifyError(new APIConnectionError({ message: 'socket hang up' }), 0).category).toBe('transient');
    expect(classifyError(apiError(400, null), 0)).toMatchObject({ category: 'bad_request', status: 400, hintMs: null });
  });

  it('retries only transient failures and timeouts', () => {
    expect(isRetryable('transient')).toBe(true);
    expect(isRetryable('timeout')).toBe(true);
    for (const category of ['rate_limit', 'quota', 'auth', 'bad_request', 'invalid_input', 'aborted'] as const) {
      expect(isRetryable(category)).toBe(false);
    }
  });
});
