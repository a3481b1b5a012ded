// Is a 2xx answer really a result of its endpoint? A proxy or an overloaded server can answer 200
// with an error object, an empty body, a text page or `choices: []`; written as a success,
// `--resume` would skip the item for good. Each endpoint's answer must carry its result: chat and
// text completions a non-empty `choices` (a text completion's first choice with its `text`),
// embeddings a non-empty `data` of vectors, the Responses API a non-empty `output` and a status
// that is an answer (not failed, cancelled or still queued). Such an answer fails its attempt as `transient` (code `invalid_response`,
// or the error object's own code): the next attempt usually gets a real answer, and a server
// that keeps doing it exhausts `maxAttempts` like any other transient fault.

import { endpointOfPath, type Endpoint } from '../model/endpoint.js';
import { isRecord } from '../model/records.js';
import type { ClassifiedFailure } from './classify.js';

/** What the caller adds itself: the status, request id and headers of the response. */
type BodyFailure = Omit<ClassifiedFailure, 'status' | 'requestId' | 'headers'>;

export type CompletionCheck = { ok: true; body: unknown } | { ok: false; failure: BodyFailure };

/** How much of an unusable body is kept in the item's result. */
const KEPT_TEXT = 2_000;

function invalid(message: string, body: unknown, code = 'invalid_response'): CompletionCheck {
  return { ok: false, failure: { category: 'transient', code, message, hintMs: null, body } };
}

/** The array field a successful answer of this endpoint must carry (non-empty). */
const RESULT_FIELD: Readonly<Record<Endpoint, string>> = { chat: 'choices', completions: 'choices', embeddings: 'data', responses: 'output' };

/** Responses API statuses that are not an answer (`incomplete` is one, cut off like finish_reason "length"). */
const UNANSWERED_STATUSES: ReadonlySet<unknown> = new Set(['failed', 'cancelled', 'queued', 'in_progress']);

/** What is wrong with a result array that is there and not empty, or null when nothing is. */
function resultProblem(endpoint: Endpoint, record: Record<string, unknown>, result: unknown[]): string | null {
  switch (endpoint) {
    case 'chat':
      return null;
    case 'completions': {
      const first = result[0];
      return isRecord(first) && typeof first['text'] === 'string' ? null : 'a text completion whose first choice has no "text"';
    }
    case 'embeddings': {
      // A vector is an array of numbers, or a base64 string with encoding_format "base64".
      const bad = result.findIndex((entry) => !isRecord(entry) || !(Array.isArray(entry['embedding']) || typeof entry['embedding'] === 'string'));
      return bad === -1 ? null : `"data[${bad}]" without an "embedding"`;
    }
    case 'responses': {
      const status = record['status'];
      return UNANSWERED_STATUSES.has(status) ? `a response with status ${JSON.stringify(status)}` : null;
    }
  }
}

/** Parses a 2xx body (once) and checks that it is an answer of the endpoint at `path`. */
export function checkCompletion(path: string, raw: string, contentType: string | undefined): CompletionCheck {
  const kept = raw.length <= KEPT_TEXT ? raw : `${raw.slice(0, KEPT_TEXT)}… (${raw.length} chars, cut)`;
  if (raw.trim() === '') return invalid('the server answered 2xx with an empty body', null);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return invalid(`the server answered 2xx with a body that is not JSON (content-type ${contentType ?? 'none'}: ${why})`, kept);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalid('the server answered 2xx with JSON that is not an object', kept);
  }
  const record = body as Record<string, unknown>;
  const endpoint = endpointOfPath(path);
  const field = endpoint === null ? null : RESULT_FIELD[endpoint];
  const result = field === null ? undefined : record[field];
  const hasResult = Array.isArray(result) && result.length > 0;
  const error = record['error'];
  if ((!hasResult || record['status'] === 'failed') && typeof error === 'object' && error !== null) {
    const { message, code } = error as Record<string, unknown>;
    const text = typeof message === 'string' ? message : JSON.stringify(error).slice(0, 300);
    return invalid(`the server answered 2xx with an error: ${text}`, raw.length <= KEPT_TEXT ? body : kept, typeof code === 'string' ? code : 'invalid_response');
  }
  // A path of none of the four endpoints: any JSON object but an error is its answer.
  if (endpoint === null || field === null) return { ok: true, body };
  if (!hasResult || !Array.isArray(result)) {
    const what = Array.isArray(result) ? 'an empty' : 'no';
    return invalid(`the server answered 2xx with ${what} "${field}" array: not a result of ${path}`, raw.length <= KEPT_TEXT ? body : kept);
  }
  const problem = resultProblem(endpoint, record, result);
  if (problem !== null) return invalid(`the server answered 2xx with ${problem}: not a result of ${path}`, raw.length <= KEPT_TEXT ? body : kept);
  return { ok: true, body };
}
