// Which category a failed attempt belongs to (docs/architecture.md, "Errors"). Pure functions over what the openai
// client reports, so the whole table is unit-tested without a server.

import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai/error';
import type { ErrorCategory, ItemFailure } from '../model/outcome.js';
import { rateLimitHintMs, type HeaderSource } from './rate-limit-hint.js';

/** Provider error codes that turn a 429 into an empty quota rather than a rate limit. */
const QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'quota_exceeded']);

export function categoryOfStatus(status: number, code: string | null): ErrorCategory {
  if (status === 429) return code !== null && QUOTA_CODES.has(code) ? 'quota' : 'rate_limit';
  if (status === 402) return 'quota';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status === 409 || status >= 500) return 'transient';
  return 'bad_request';
}

/** Categories worth another attempt (within `maxAttempts`, after a backoff). */
export function isRetryable(category: ErrorCategory): boolean {
  return category === 'transient' || category === 'timeout';
}

export interface ClassifiedFailure extends ItemFailure {
  /** For rate limits: the server's pause hint in ms, null when it gave none. */
  hintMs: number | null;
  requestId: string | null;
  /** The error response body, when there was one. */
  body: unknown;
  /** The error response's headers, when there was a response. */
  headers: HeaderSource | null;
}

/** Classifies anything the openai client threw for one attempt. */
export function classifyError(error: unknown, nowMs: number): ClassifiedFailure {
  const message = error instanceof Error ? error.message : String(error);
  const base = { code: null, status: null, message, hintMs: null, requestId: null, body: null, headers: null };
  // Order matters: the timeout and abort classes are subclasses of APIError with no status.
  if (error instanceof APIConnectionTimeoutError) return { ...base, category: 'timeout' };
  if (error instanceof APIUserAbortError) return { ...base, category: 'aborted' };
  if (error instanceof APIConnectionError) return { ...base, category: 'transient' };
  if (error instanceof APIError && typeof error.status === 'number') {
    const code = typeof error.code === 'string' ? error.code : null;
    const category = categoryOfStatus(error.status, code);
    return {
      category,
      code,
      status: error.status,
      message,
      hintMs: category === 'rate_limit' ? rateLimitHintMs(error.headers, nowMs) : null,
      requestId: error.requestID ?? null,
      body: error.error ?? null,
      headers: error.headers ?? null,
    };
  }
  // Anything else (a socket error surfacing oddly, a bug in a fetch shim): worth a bounded retry.
  return { ...base, category: 'transient' };
}
