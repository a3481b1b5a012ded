// How many tokens a request will take, before it is sent: the prompt counted with a real
// tokenizer (gpt-tokenizer's o200k_base, the encoding of current OpenAI models; other models'
// tokenizers differ by a few percent, which the reconciliation after each response absorbs),
// plus the most the answer may take.

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

/** The tokens a chat request body will take: its prompt, and at most its answer. */
export function estimateTokens(body: Record<string, unknown>, defaultAnswerTokens: number): TokenEstimate {
  const count = countTokens;
  if (count === undefined) throw new Error('loadTokenizer() must be awaited before estimateTokens()');
  const messages = Array.isArray(body['messages']) ? (body['messages'] as Array<{ content?: unknown }>) : [];
  const prompt = messages.reduce((sum, message) => sum + PER_MESSAGE + count(text(message.content)), PER_REPLY);
  const answer = body['max_completion_tokens'] ?? body['max_tokens'];
  return { prompt, answer: typeof answer === 'number' && answer >= 0 ? answer : defaultAnswerTokens };
}
