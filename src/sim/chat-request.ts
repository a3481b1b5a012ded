/**
 * Reading a `POST /v1/chat/completions` body: the few fields the simulator acts on, the request's key
 * (what scripts and deterministic content are keyed by) and a cheap prompt-token estimate. The other
 * endpoints' requests are read into the same shape (endpoint-requests.ts).
 */

import type { Endpoint } from '../model/endpoint.js';
import { isRecord } from '../model/records.js';

/** A JSON Schema document, as sent in `response_format.json_schema.schema`. */
export type JsonSchema = Readonly<Record<string, unknown>>;

export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | { readonly type: 'json_schema'; readonly schema: JsonSchema };

/** What an embeddings request asks for: one vector per input. */
export interface EmbeddingsInput {
  /** Each input as text (a token array as its JSON): the vector is a function of it and the seed. */
  readonly inputs: readonly string[];
  /** `dimensions` as sent, else the simulator's `embeddingDimensions`. */
  readonly dimensions: number | undefined;
  /** `encoding_format: "base64"`: each vector as base64 of little-endian float32s. */
  readonly base64: boolean;
}

/** A request the simulator acts on, of any of its endpoints. */
export interface ChatRequest {
  /** Which endpoint it was sent to. */
  readonly endpoint: Endpoint;
  /** For embeddings, the inputs; null for the endpoints that answer text. */
  readonly embeddings: EmbeddingsInput | null;
  /** `model` as sent, echoed in the answer (`undefined` when absent). */
  readonly model: string | undefined;
  /**
   * Content of the last `user` message: its string, or its text parts concatenated; `''` if none.
   * For a text completion its prompt, for the Responses API its text input (or last user message),
   * for embeddings the inputs joined by newlines.
   */
  readonly key: string;
  /** Estimated prompt tokens: ceil(characters of all contents / 4) + 3 per message. */
  readonly promptTokens: number;
  /** `max_tokens`, else `max_completion_tokens` (Responses: `max_output_tokens`), else `undefined`; 0 for embeddings. */
  readonly maxTokens: number | undefined;
  readonly responseFormat: ResponseFormat;
}

export type ParsedChatRequest =
  | { readonly ok: true; readonly request: ChatRequest }
  | { readonly ok: false; readonly message: string; readonly param: string | null };

/** Roughly what OpenAI charges for an image part at low detail; only the order of magnitude matters. */
const NON_TEXT_PART_TOKENS = 85;
const TOKENS_PER_MESSAGE = 3;

export function invalid(message: string, param: string | null = null): ParsedChatRequest {
  return { ok: false, message, param };
}

/** The text of a message's `content`: a string, or the `text` of its text parts, concatenated. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    // Chat's text parts, and the Responses API's input_text parts.
    if (isRecord(part) && (part['type'] === 'text' || part['type'] === 'input_text') && typeof part['text'] === 'string') text += part['text'];
  }
  return text;
}

function nonTextParts(content: unknown): number {
  if (!Array.isArray(content)) return 0;
  let count = 0;
  for (const part of content) if (!(isRecord(part) && part['type'] === 'text')) count++;
  return count;
}

export function readMaxTokens(body: Record<string, unknown>, name: string): number | undefined | string {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    return `Invalid '${name}': expected a non-negative integer.`;
  }
  return value;
}

export function readResponseFormat(value: unknown): ResponseFormat | string {
  if (value === undefined || value === null) return { type: 'text' };
  if (!isRecord(value)) return "Invalid type for 'response_format': expected an object.";
  switch (value['type']) {
    case 'text':
      return { type: 'text' };
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const spec = value['json_schema'];
      if (!isRecord(spec)) return "Missing required parameter: 'response_format.json_schema'.";
      const schema = spec['schema'];
      if (schema === undefined) return { type: 'json_object' };
      if (!isRecord(schema)) return "Invalid type for 'response_format.json_schema.schema': expected an object.";
      return { type: 'json_schema', schema };
    }
    default:
      return "Invalid value for 'response_format.type': expected 'text', 'json_object' or 'json_schema'.";
  }
}

/**
 * A request body as a JSON object with a string `model` (or none) and no `stream: true`, or the 400
 * that refuses it: what every endpoint checks first.
 */
export function readRequestObject(body: string): { ok: true; body: Record<string, unknown> } | Extract<ParsedChatRequest, { ok: false }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {
      ok: false,
      param: null,
      message:
        'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP ' +
        'library correctly. The OpenAI API expects a JSON payload.)',
    };
  }
  if (!isRecord(parsed)) return { ok: false, param: null, message: 'The request body must be a JSON object.' };
  if (parsed['stream'] === true) return { ok: false, param: 'stream', message: 'Streaming is not supported by the batch-llm simulator.' };
  const model = parsed['model'];
  if (model !== undefined && typeof model !== 'string') return { ok: false, param: 'model', message: "Invalid type for 'model': expected a string." };
  return { ok: true, body: parsed };
}

/** Parses and checks a request body; an invalid one yields the message of a 400. */
export function parseChatRequest(body: string): ParsedChatRequest {
  const read = readRequestObject(body);
  if (!read.ok) return read;
  const parsed = read.body;
  const messages = parsed['messages'];
  if (messages === undefined) return invalid("Missing required parameter: 'messages'.", 'messages');
  if (!Array.isArray(messages)) return invalid("Invalid type for 'messages': expected an array.", 'messages');
  const model = parsed['model'] as string | undefined;

  let chars = 0;
  let extraTokens = 0;
  let key = '';
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    if (!isRecord(message) || typeof message['role'] !== 'string') {
      return invalid(`Invalid 'messages[${i}]': expected an object with a string 'role'.`, `messages[${i}]`);
    }
    const text = contentText(message['content']);
    chars += text.length;
    extraTokens += TOKENS_PER_MESSAGE + NON_TEXT_PART_TOKENS * nonTextParts(message['content']);
    if (message['role'] === 'user') key = text;
  }

  const maxTokens = readMaxTokens(parsed, 'max_tokens');
  if (typeof maxTokens === 'string') return invalid(maxTokens, 'max_tokens');
  const maxCompletionTokens = readMaxTokens(parsed, 'max_completion_tokens');
  if (typeof maxCompletionTokens === 'string') return invalid(maxCompletionTokens, 'max_completion_tokens');
  const responseFormat = readResponseFormat(parsed['response_format']);
  if (typeof responseFormat === 'string') return invalid(responseFormat, 'response_format');

  return {
    ok: true,
    request: {
      endpoint: 'chat',
      embeddings: null,
      model,
      key,
      promptTokens: Math.ceil(chars / 4) + extraTokens,
      maxTokens: maxTokens ?? maxCompletionTokens,
      responseFormat,
    },
  };
}
