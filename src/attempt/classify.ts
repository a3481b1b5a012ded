// Which category a failed attempt belongs to (docs/architecture.md, "Errors"). Pure functions over what the openai
// client reports, so the whole table is unit-tested without a server.

import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai/error';
import type { ErrorCategory, ItemFailure } from '../model/outcome.js';
import { rateLimitHint, rateLimitHintMs, type HeaderSource } from './rate-limit-hint.js';
import { OUTAGE_CAUSE } from '../control/outage.js';

/** A 503's own Retry-After (a rate limit's reset headers on it say nothing about the outage). */
function unavailableHintMs(headers: HeaderSource | undefined, nowMs: number): number | null {
  const hint = rateLimitHint(headers, nowMs);
  return hint === null || hint.source === 'reset-headers' ? null : hint.ms;
}

/** Provider error codes that turn a 429 into an empty quota rather than a rate limit. */
const QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'quota_exceeded']);

export function categoryOfStatus(status: number, code: string | null): ErrorCategory {
  if (status === 429) return code !== null && QUOTA_CODES.has(code) ? 'quota' : 'rate_limit';
  if (status === 402) return 'quota';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status === 409 || status >= 500) return 'transient';
  return 'bad_request';
}

/** Statuses that say the endpoint (or the gateway before it) is down, not that this request is wrong. */
const OUTAGE_STATUSES = new Set([502, 503, 504]);

/**
 * Whether a failure says the endpoint is down rather than that this request failed: a connection
 * that failed (refused, reset, cut off: no status), a 502/503/504, or an attempt that timed out.
 * A 500 is the server's answer about this request and stays the item's own. Such signals, several
 * in a row, open the shared outage pause (control/outage.ts). Returns the control block's cause
 * code (the status, or 1 for no connection, 2 for a timeout), or null for any other failure.
 */
export function outageSignal(failure: ItemFailure): number | null {
  if (failure.category === 'timeout') return OUTAGE_CAUSE.timeout;
  if (failure.category !== 'transient' || failure.code === 'internal_error') return null;
  if (failure.status === null) return OUTAGE_CAUSE.connection;
  return OUTAGE_STATUSES.has(failure.status) ? failure.status : null;
}

/** Categories worth another attempt (within `maxAttempts`, after a backoff). */
export function isRetryable(category: ErrorCategory): boolean {
  return category === 'transient' || category === 'timeout';
}

export interface ClassifiedFailure extends ItemFailure {
  /** For rate limits and 503s: the server's pause hint (Retry-After …) in ms, null when it gave none. */
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
      hintMs: category === 'rate_limit' ? rateLimitHintMs(error.headers, nowMs) : error.status === 503 ? unavailableHintMs(error.headers, nowMs) : null,
      requestId: error.requestID ?? null,
      body: error.error ?? null,
      headers: error.headers ?? null,
    };
  }
  // Anything else (a socket error surfacing oddly, a bug in a fetch shim): worth a bounded retry.
  return { ...base, category: 'transient' };
}
