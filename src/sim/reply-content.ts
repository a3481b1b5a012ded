/**
 * What the assistant "says": deterministic text, or JSON for `json_object` / `json_schema` requests,
 * optionally broken on purpose (not JSON at all, or JSON that violates the schema) so that re-ask
 * logic can be tested. Content depends only on the key and the seed, never on arrival order.
 */
import type { ResponseFormat } from './chat-request.js';
import { instanceFromSchema, violateSchema, word } from './json-from-schema.js';
import { hashString, mulberry32 } from './prng.js';

/** How the reply was shaped, for the request record (`embedding`: vectors; `malformed`: a 200 that is not a result). */
export type ContentKind = 'text' | 'json' | 'invalid_json' | 'schema_violation' | 'embedding' | 'malformed';

export interface ReplyContent {
  readonly kind: ContentKind;
  readonly content: string;
}

/** Longest generated text, in words: keeps per-request work bounded whatever `completionTokens` says. */
const MAX_WORDS = 2048;

export interface ReplyInput {
  readonly format: ResponseFormat;
  readonly key: string;
  readonly seed: number;
  /** Completion tokens this answer reports; the text has about as many words. */
  readonly completionTokens: number;
  /** Break a JSON answer into non-JSON text. */
  readonly invalidJson: boolean;
  /** Make a JSON answer violate its schema (or, for `json_object`, not be an object). */
  readonly violateSchema: boolean;
}

function words(key: string, seed: number, count: number): string {
  const random = mulberry32(hashString(key, seed));
  const out: string[] = [];
  for (let i = 0; i < Math.min(count, MAX_WORDS); i++) out.push(word(random));
  return out.join(' ');
}

export function replyContent(input: ReplyInput): ReplyContent {
  const { format, key, seed } = input;
  if (format.type === 'text') {
    return { kind: 'text', content: words(key, seed, input.completionTokens) };
  }
  if (input.invalidJson) {
    // Chatty preamble and a cut-off object: what a model that ignores JSON mode tends to send.
    return { kind: 'invalid_json', content: `Sure! Here is the JSON you asked for:\n{"answer": "${words(key, seed, 3)}` };
  }
  if (format.type === 'json_object') {
    const value = { answer: words(key, seed, Math.max(1, Math.min(input.completionTokens, 8))) };
    return input.violateSchema
      ? { kind: 'schema_violation', content: JSON.stringify([value]) }
      : { kind: 'json', content: JSON.stringify(value) };
  }
  const value = instanceFromSchema(format.schema, mulberry32(hashString(key, seed)));
  return input.violateSchema
    ? { kind: 'schema_violation', content: JSON.stringify(violateSchema(value, format.schema)) }
    : { kind: 'json', content: JSON.stringify(value) };
}
