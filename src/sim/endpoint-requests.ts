/**
 * Reading a request of any of the simulator's four endpoints into the one shape its rules act on
 * (chat-request.ts): `/v1/completions` (a `prompt`), `/v1/embeddings` (an `input` of one or more
 * texts or token arrays) and `/v1/responses` (an `input` text or input messages, `instructions`,
 * `max_output_tokens`, `text.format`). Each is checked as strictly as the real API checks the
 * fields the simulator uses, so a malformed body gets the 400 it would get there.
 */

import { ENDPOINT_URLS, type Endpoint } from '../model/endpoint.js';
import { isRecord } from '../model/records.js';
import {
  contentText,
  invalid,
  parseChatRequest,
  readMaxTokens,
  readRequestObject,
  readResponseFormat,
  type ParsedChatRequest,
  type ResponseFormat,
} from './chat-request.js';

const TOKENS_PER_MESSAGE = 3;

/** The endpoint a request path is for, or undefined when the simulator has no such endpoint. */
export function simEndpointOf(path: string): Endpoint | undefined {
  for (const [endpoint, url] of Object.entries(ENDPOINT_URLS) as Array<[Endpoint, string]>) if (url === path) return endpoint;
  return undefined;
}

/** The texts of a prompt or input: a string, strings, a token array, or token arrays; a string on error. */
function textsOf(value: unknown, name: string): { texts: string[]; tokens: number } | string {
  const wrong = `Invalid type for '${name}': expected a string, an array of strings, an array of tokens or an array of token arrays.`;
  if (typeof value === 'string') return { texts: [value], tokens: Math.ceil(value.length / 4) };
  if (!Array.isArray(value) || value.length === 0) return value === undefined ? `Missing required parameter: '${name}'.` : wrong;
  if (value.every((entry) => typeof entry === 'number')) return { texts: [JSON.stringify(value)], tokens: value.length };
  const texts: string[] = [];
  let tokens = 0;
  for (const entry of value as unknown[]) {
    if (typeof entry === 'string') {
      texts.push(entry);
      tokens += Math.ceil(entry.length / 4);
    } else if (Array.isArray(entry) && entry.every((token) => typeof token === 'number')) {
      texts.push(JSON.stringify(entry));
      tokens += entry.length;
    } else {
      return wrong;
    }
  }
  return { texts, tokens };
}

function parseCompletions(body: Record<string, unknown>): ParsedChatRequest {
  const prompt = textsOf(body['prompt'], 'prompt');
  if (typeof prompt === 'string') return invalid(prompt, 'prompt');
  const maxTokens = readMaxTokens(body, 'max_tokens');
  if (typeof maxTokens === 'string') return invalid(maxTokens, 'max_tokens');
  const responseFormat = readResponseFormat(body['response_format']);
  if (typeof responseFormat === 'string') return invalid(responseFormat, 'response_format');
  return {
    ok: true,
    request: {
      endpoint: 'completions',
      embeddings: null,
      model: body['model'] as string | undefined,
      key: prompt.texts[0] ?? '',
      promptTokens: prompt.tokens,
      maxTokens,
      responseFormat,
    },
  };
}

function parseEmbeddings(body: Record<string, unknown>): ParsedChatRequest {
  const input = textsOf(body['input'], 'input');
  if (typeof input === 'string') return invalid(input, 'input');
  const dimensions = body['dimensions'];
  if (dimensions !== undefined && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)) {
    return invalid("Invalid 'dimensions': expected a positive integer.", 'dimensions');
  }
  const format = body['encoding_format'];
  if (format !== undefined && format !== 'float' && format !== 'base64') {
    return invalid("Invalid value for 'encoding_format': expected 'float' or 'base64'.", 'encoding_format');
  }
  return {
    ok: true,
    request: {
      endpoint: 'embeddings',
      embeddings: { inputs: input.texts, dimensions, base64: format === 'base64' },
      model: body['model'] as string | undefined,
      key: input.texts.join('\n'),
      promptTokens: input.tokens,
      maxTokens: 0,
      responseFormat: { type: 'text' },
    },
  };
}

/** The Responses API's `text.format`: the same three kinds as chat's response_format, spelled flat. */
function responsesFormat(text: unknown): ResponseFormat | string {
  if (text === undefined || text === null) return { type: 'text' };
  if (!isRecord(text)) return "Invalid type for 'text': expected an object.";
  const format = text['format'];
  if (format === undefined || format === null) return { type: 'text' };
  if (!isRecord(format)) return "Invalid type for 'text.format': expected an object.";
  if (format['type'] === 'json_schema') {
    const schema = format['schema'];
    if (!isRecord(schema)) return "Missing required parameter: 'text.format.schema'.";
    return { type: 'json_schema', schema };
  }
  if (format['type'] === 'json_object') return { type: 'json_object' };
  if (format['type'] === 'text') return { type: 'text' };
  return "Invalid value for 'text.format.type': expected 'text', 'json_object' or 'json_schema'.";
}

function parseResponses(body: Record<string, unknown>): ParsedChatRequest {
  const input = body['input'];
  let key = '';
  let chars = 0;
  let extraTokens = 0;
  if (typeof input === 'string') {
    key = input;
    chars = input.length;
  } else if (Array.isArray(input)) {
    for (let i = 0; i < input.length; i++) {
      const item: unknown = input[i];
      if (!isRecord(item)) return invalid(`Invalid 'input[${i}]': expected an object.`, `input[${i}]`);
      const text = contentText(item['content']);
      chars += text.length;
      extraTokens += TOKENS_PER_MESSAGE;
      if (item['role'] === 'user') key = text;
    }
  } else {
    return invalid(input === undefined ? "Missing required parameter: 'input'." : "Invalid type for 'input': expected a string or an array.", 'input');
  }
  const instructions = body['instructions'];
  if (instructions !== undefined && instructions !== null && typeof instructions !== 'string') {
    return invalid("Invalid type for 'instructions': expected a string.", 'instructions');
  }
  if (typeof instructions === 'string') chars += instructions.length;
  const maxTokens = readMaxTokens(body, 'max_output_tokens');
  if (typeof maxTokens === 'string') return invalid(maxTokens, 'max_output_tokens');
  const responseFormat = responsesFormat(body['text']);
  if (typeof responseFormat === 'string') return invalid(responseFormat, 'text');
  return {
    ok: true,
    request: {
      endpoint: 'responses',
      embeddings: null,
      model: body['model'] as string | undefined,
      key,
      promptTokens: Math.ceil(chars / 4) + extraTokens,
      maxTokens,
      responseFormat,
    },
  };
}

/** Parses and checks a request body of `endpoint`; an invalid one yields the message of a 400. */
export function parseModelRequest(endpoint: Endpoint, text: string): ParsedChatRequest {
  if (endpoint === 'chat') return parseChatRequest(text);
  const read = readRequestObject(text);
  if (!read.ok) return read;
  switch (endpoint) {
    case 'completions':
      return parseCompletions(read.body);
    case 'embeddings':
      return parseEmbeddings(read.body);
    case 'responses':
      return parseResponses(read.body);
  }
}
