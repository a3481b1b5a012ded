// How many tokens a request will take, before it is sent: the prompt counted with a real
// tokenizer (gpt-tokenizer's o200k_base, the encoding of current OpenAI models; other models'
// tokenizers differ by a few percent, which the reconciliation after each response absorbs),
// plus the most the answer may take.

import type { Usage } from './outcome.js';

type CountTokens = (chat: Iterable<{ role: 'system' | 'user' | 'assistant'; content: string }>) => number;
let countTokens: CountTokens | undefined;

/** Loads the tokenizer (~130 ms, once per thread, only when a token budget is in force). */
export async function loadTokenizer(): Promise<void> {
  if (countTokens !== undefined) return;
  const module = await import('gpt-tokenizer/encoding/o200k_base');
  countTokens = module.countTokens as CountTokens;
}

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('');
}

/** Prompt tokens of a chat request body, plus its max_completion_tokens / max_tokens or `defaultAnswerTokens`. */
export function estimateTokens(body: Record<string, unknown>, defaultAnswerTokens: number): number {
  if (countTokens === undefined) throw new Error('loadTokenizer() must be awaited before estimateTokens()');
  const messages = Array.isArray(body['messages']) ? (body['messages'] as Array<{ role?: unknown; content?: unknown }>) : [];
  const chat = messages.map((m) => ({ role: (m.role === 'system' || m.role === 'assistant' ? m.role : 'user') as 'system' | 'user' | 'assistant', content: text(m.content) }));
  const answer = body['max_completion_tokens'] ?? body['max_tokens'];
  return countTokens(chat) + (typeof answer === 'number' && answer >= 0 ? answer : defaultAnswerTokens);
}

/** The tokens a finished attempt actually took, or null when the response carried no usage. */
export function actualTokens(usage: Usage | null): number | null {
  return usage === null ? null : usage.total;
}
