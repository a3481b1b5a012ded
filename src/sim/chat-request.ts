/**
 * Reading a `POST /v1/chat/completions` body: the few fields the simulator acts on, the request's key
 * (what scripts and deterministic content are keyed by) and a cheap prompt-token estimate.
 */

import { isRecord } from '../model/records.js';

/** A JSON Schema document, as sent in `response_format.json_schema.schema`. */
export type JsonSchema = Readonly<Record<string, unknown>>;

export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | { readonly type: 'json_schema'; readonly schema: JsonSchema };

export interface ChatRequest {
  /** `model` as sent, echoed in the answer (`undefined` when absent). */
  readonly model: string | undefined;
  /** Content of the last `user` message: its string, or its text parts concatenated; `''` if none. */
  readonly key: string;
  /** Estimated prompt tokens: ceil(characters of all contents / 4) + 3 per message. */
  readonly promptTokens: number;
  /** `max_tokens`, else `max_completion_tokens`, else `undefined`. */
  readonly maxTokens: number | undefined;
  readonly responseFormat: ResponseFormat;
}

export type ParsedChatRequest =
  | { readonly ok: true; readonly request: ChatRequest }
  | { readonly ok: false; readonly message: string; readonly param: string | null };

/** Roughly what OpenAI charges for an image part at low detail; only the order of magnitude matters. */
const NON_TEXT_PART_TOKENS = 85;
const TOKENS_PER_MESSAGE = 3;

function invalid(message: string, param: string | null = null): ParsedChatRequest {
  return { ok: false, message, param };
}

/** The text of a message's `content`: a string, or the `text` of its text parts, concatenated. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (isRecord(part) && part['type'] === 'text' && typeof part['text'] === 'string') text += part['text'];
  }
  return text;
}

function nonTextParts(content: unknown): number {
  if (!Array.isArray(content)) return 0;
  let count = 0;
  for (const part of content) if (!(isRecord(part) && part['type'] === 'text')) count++;
  return count;
}

function readMaxTokens(body: Record<string, unknown>, name: string): number | undefined | string {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    return `Invalid '${name}': expected a non-negative integer.`;
  }
  return value;
}

function readResponseFormat(value: unknown): ResponseFormat | string {
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

/** Parses and checks a request body; an invalid one yields the message of a 400. */
export function parseChatRequest(body: string): ParsedChatRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return invalid(
      'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP ' +
        'library correctly. The OpenAI API expects a JSON payload.)',
    );
  }
  if (!isRecord(parsed)) return invalid('The request body must be a JSON object.');
  const messages = parsed['messages'];
  if (messages === undefined) return invalid("Missing required parameter: 'messages'.", 'messages');
  if (!Array.isArray(messages)) return invalid("Invalid type for 'messages': expected an array.", 'messages');
  if (parsed['stream'] === true) {
    return invalid('Streaming is not supported by the batch-llm simulator.', 'stream');
  }
  const model = parsed['model'];
  if (model !== undefined && typeof model !== 'string') {
    return invalid("Invalid type for 'model': expected a string.", 'model');
  }

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
      model,
      key,
      promptTokens: Math.ceil(chars / 4) + extraTokens,
      maxTokens: maxTokens ?? maxCompletionTokens,
      responseFormat,
    },
  };
}
