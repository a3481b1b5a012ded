// How many tokens a request will take, before it is sent: the prompt counted with a real
// tokenizer (gpt-tokenizer's o200k_base, the encoding of current OpenAI models; other models'
// tokenizers differ by a few percent, which the reconciliation after each response absorbs),
// plus the most the answer may take. Each endpoint keeps its prompt in its own field: chat in
// `messages`, text completions in `prompt`, embeddings and the Responses API in `input` (text, a
// list of texts, token arrays — counted as they are — or, for responses, input messages); an
// embedding's answer takes no tokens at all.

import type { Endpoint } from '../model/endpoint.js';
import { isRecord } from '../model/records.js';

let countTokens: ((text: string) => number) | undefined;

/** Loads the tokenizer (~130 ms, once per thread, only when a token budget is in force). */
export async function loadTokenizer(): Promise<void> {
  if (countTokens !== undefined) return;
  const module = await import('gpt-tokenizer/encoding/o200k_base');
  countTokens = (text) => module.countTokens(text);
}

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('');
}

/** Tokens a chat message costs beyond its text, and a reply's priming (OpenAI's documented counting). */
const PER_MESSAGE = 3;
const PER_REPLY = 3;

export interface TokenEstimate {
  /** Prompt tokens, as this tokenizer counts them. */
  prompt: number;
  /** The most the answer may take: max_completion_tokens / max_tokens, or the default. */
  answer: number;
}

/** Tokens of a prompt or input given as text, a list of texts, a token array or a list of token arrays. */
function textsOrTokens(value: unknown, count: (text: string) => number): number {
  if (typeof value === 'string') return count(value);
  if (!Array.isArray(value)) return 0;
  let sum = 0;
  for (const entry of value) {
    if (typeof entry === 'number') sum += 1;
    else if (typeof entry === 'string') sum += count(entry);
    else if (Array.isArray(entry)) sum += entry.length;
  }
  return sum;
}

/** Tokens of a chat-like list of messages: each message's text and its overhead, and the reply's priming. */
function messagesTokens(messages: unknown[], count: (text: string) => number): number {
  return messages.reduce<number>((sum, message) => sum + PER_MESSAGE + count(text(isRecord(message) ? message['content'] : undefined)), PER_REPLY);
}

function promptTokens(endpoint: Endpoint, body: Record<string, unknown>, count: (text: string) => number): number {
  switch (endpoint) {
    case 'chat':
      return messagesTokens(Array.isArray(body['messages']) ? body['messages'] : [], count);
    case 'completions':
      return textsOrTokens(body['prompt'], count);
    case 'embeddings':
      return textsOrTokens(body['input'], count);
    case 'responses': {
      const input = body['input'];
      const instructions = typeof body['instructions'] === 'string' ? count(body['instructions']) : 0;
      // The Responses API takes a text, or a list of input items (messages with text or parts).
      return instructions + (Array.isArray(input) ? messagesTokens(input, count) : textsOrTokens(input, count));
    }
  }
}

/**
 * The most an answer to this body may take, as the body says (max_completion_tokens / max_tokens,
 * the Responses API's max_output_tokens); 0 for an embedding; null when the body sets no cap.
 */
export function answerCap(endpoint: Endpoint, body: Record<string, unknown>): number | null {
  if (endpoint === 'embeddings') return 0;
  const cap = endpoint === 'responses' ? body['max_output_tokens'] : (body['max_completion_tokens'] ?? body['max_tokens']);
  return typeof cap === 'number' && cap >= 0 ? cap : null;
}

/** The tokens a request body of `endpoint` will take: its prompt, and at most its answer. */
export function estimateTokens(body: Record<string, unknown>, defaultAnswerTokens: number, endpoint: Endpoint = 'chat'): TokenEstimate {
  const count = countTokens;
  if (count === undefined) throw new Error('loadTokenizer() must be awaited before estimateTokens()');
  return { prompt: promptTokens(endpoint, body, count), answer: answerCap(endpoint, body) ?? defaultAnswerTokens };
}
