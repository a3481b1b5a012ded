// Is a 2xx answer really a result? A proxy or an overloaded server can answer 200 with an error
// object, an empty body, a text page or `choices: []`; written as a success, `--resume` would skip
// the item for good. Such an answer fails its attempt as `transient` (code `invalid_response`,
// or the error object's own code): the next attempt usually gets a real answer, and a server
// that keeps doing it exhausts `maxAttempts` like any other transient fault.

import type { ClassifiedFailure } from './classify.js';

/** What the caller adds itself: the status, request id and headers of the response. */
type BodyFailure = Omit<ClassifiedFailure, 'status' | 'requestId' | 'headers'>;

export type CompletionCheck = { ok: true; body: unknown } | { ok: false; failure: BodyFailure };

/** How much of an unusable body is kept in the item's result. */
const KEPT_TEXT = 2_000;

function invalid(message: string, body: unknown, code = 'invalid_response'): CompletionCheck {
  return { ok: false, failure: { category: 'transient', code, message, hintMs: null, body } };
}

/** The array field a successful answer of this endpoint must carry, if any. */
function resultField(path: string): { name: string; nonEmpty: boolean } | null {
  if (path.endsWith('/completions')) return { name: 'choices', nonEmpty: true };
  if (path.endsWith('/embeddings')) return { name: 'data', nonEmpty: true };
  return null;
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
  const field = resultField(path);
  const result = field === null ? undefined : record[field.name];
  const hasResult = field !== null && Array.isArray(result) && (!field.nonEmpty || result.length > 0);
  const error = record['error'];
  if (!hasResult && typeof error === 'object' && error !== null) {
    const { message, code } = error as Record<string, unknown>;
    const text = typeof message === 'string' ? message : JSON.stringify(error).slice(0, 300);
    return invalid(`the server answered 2xx with an error: ${text}`, raw.length <= KEPT_TEXT ? body : kept, typeof code === 'string' ? code : 'invalid_response');
  }
  if (field !== null && !hasResult) {
    const what = Array.isArray(result) ? 'an empty' : 'no';
    return invalid(`the server answered 2xx with ${what} "${field.name}" array: not a result`, raw.length <= KEPT_TEXT ? body : kept);
  }
  return { ok: true, body };
}
