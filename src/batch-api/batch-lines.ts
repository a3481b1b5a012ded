// A line of the provider's output or error file, read into the engine's outcome: success with
// the response, or a failure in batch-llm's categories. An expired line (`batch_expired`) is a
// `timeout` — the provider ran out of its window — and, like 5xx and 429, worth running again.

import { categoryOfStatus } from '../attempt/classify.js';
import type { ErrorCategory, ItemOutcome } from '../model/outcome.js';
import { isRecord } from '../model/records.js';
import { emptyUsage, usageFromBody } from '../model/usage.js';

export interface ProviderLine {
  customId: string;
  outcome: ItemOutcome;
}

/** Categories a resubmission (or an online run) may still turn into a success. */
export function worthAnotherTry(category: ErrorCategory): boolean {
  return category === 'transient' || category === 'timeout' || category === 'rate_limit';
}

function errorCode(body: unknown): string | null {
  const error = isRecord(body) ? body['error'] : undefined;
  return isRecord(error) && typeof error['code'] === 'string' ? error['code'] : null;
}

function errorMessage(body: unknown, fallback: string): string {
  const error = isRecord(body) ? body['error'] : undefined;
  return isRecord(error) && typeof error['message'] === 'string' ? error['message'] : fallback;
}

/** Reads one line of an output or error file; null for a line that is not one (no custom_id). */
export function readProviderLine(text: string): ProviderLine | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value['custom_id'] !== 'string') return null;
  const customId = value['custom_id'];
  const response = isRecord(value['response']) ? value['response'] : null;
  const usage = usageFromBody(response?.['body']) ?? emptyUsage();
  const stats = { attempts: 1, rateLimited: 0, invalidOutputs: 0, latencyMs: 0, usage };
  const requestId = typeof response?.['request_id'] === 'string' ? response['request_id'] : null;
  const status = typeof response?.['status_code'] === 'number' ? response['status_code'] : null;
  if (response !== null && status !== null && status >= 200 && status < 300) {
    return { customId, outcome: { ok: true, custom_id: customId, status, requestId, body: response['body'], stats } };
  }
  const lineError = isRecord(value['error']) ? value['error'] : null;
  const lineCode = typeof lineError?.['code'] === 'string' ? lineError['code'] : null;
  let category: ErrorCategory;
  if (status !== null) category = categoryOfStatus(status, errorCode(response?.['body']));
  else if (lineCode === 'batch_expired') category = 'timeout';
  else if (lineCode === 'batch_cancelled') category = 'aborted';
  else category = 'transient';
  const code = status !== null ? errorCode(response?.['body']) : lineCode;
  const fallback = typeof lineError?.['message'] === 'string' ? lineError['message'] : `the batch gave no answer for this line (${lineCode ?? 'no code'})`;
  return {
    customId,
    outcome: {
      ok: false,
      custom_id: customId,
      error: { category, code, status, message: errorMessage(response?.['body'], fallback) },
      requestId,
      body: response?.['body'] ?? null,
      stats: { ...stats, attempts: status === null ? 0 : 1 },
    },
  };
}
