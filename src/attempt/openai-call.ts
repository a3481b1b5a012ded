// One HTTP attempt through the official openai client. The client never retries on its own
// (`maxRetries: 0`): every retry is ours, visible to the scheduler and the shared cooldown.

import OpenAI from 'openai';
import { classifyError, type ClassifiedFailure } from './classify.js';
import { createHttpFetch } from './http-fetch.js';
import { redact } from '../model/redact.js';

export interface ClientSettings {
  baseURL: string;
  apiKey: string;
  attemptTimeoutMs: number;
  headers: Record<string, string>;
  /** Most connections this thread keeps open to the endpoint. */
  maxSockets: number;
}

export type CallResult =
  | { ok: true; status: number; requestId: string | null; body: unknown; headers: Headers | null }
  | { ok: false; failure: ClassifiedFailure };

export function createClient(settings: ClientSettings): OpenAI {
  return new OpenAI({
    baseURL: settings.baseURL,
    apiKey: settings.apiKey,
    maxRetries: 0,
    timeout: settings.attemptTimeoutMs,
    defaultHeaders: settings.headers,
    fetch: createHttpFetch(settings.maxSockets),
  });
}

/** The path relative to the client's base URL (which ends in /v1) for an item's `url`. */
export function endpointPath(url: string | undefined): string {
  const path = url ?? '/v1/chat/completions';
  return path.startsWith('/v1/') ? path.slice(3) : path;
}

/** Sends one request; never throws. `timeoutMs` and `signal` bound this one attempt. */
export async function callEndpoint(
  client: OpenAI,
  path: string,
  body: Record<string, unknown>,
  apiKey: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CallResult> {
  // The openai client adds an 'abort' listener to the signal it is given and never removes it:
  // hand it a fresh signal per attempt, relayed from the long-lived one, and unhook the relay
  // afterwards, or every attempt leaves a listener (and its closure) on the run's cancel signal.
  const attempt = new AbortController();
  const relay = () => attempt.abort(signal.reason);
  if (signal.aborted) relay();
  else signal.addEventListener('abort', relay, { once: true });
  try {
    const { data, response, request_id } = await client.post<unknown>(path, { body, timeout: timeoutMs, signal: attempt.signal }).withResponse();
    return { ok: true, status: response.status, requestId: request_id ?? null, body: data, headers: response.headers };
  } catch (error) {
    const failure = classifyError(error, Date.now());
    failure.message = redact(failure.message, apiKey);
    return { ok: false, failure };
  } finally {
    signal.removeEventListener('abort', relay);
  }
}
