import { beforeAll, describe, expect, it } from 'vitest';
import { estimateTokens, loadTokenizer } from '../../src/attempt/token-estimate.js';

describe('estimating a request’s tokens', () => {
  beforeAll(loadTokenizer);

  it('counts the prompt with the tokenizer, not characters ÷ 4, and adds max_tokens', () => {
    const chat = (content: string) => ({ messages: [{ role: 'user', content }], max_tokens: 50 });
    // 3 tokens per message and 3 for the reply's priming, around the text's own tokens.
    expect(estimateTokens(chat('hello world'), 256)).toEqual({ prompt: 3 + 3 + 2, answer: 50 });
    // Twelve characters of Japanese are 9 tokens, where characters ÷ 4 would say 3.
    expect(estimateTokens(chat('日本語のテキストを数える'), 256)).toEqual({ prompt: 3 + 3 + 9, answer: 50 });
  });

  it('reads text parts, prefers max_completion_tokens, and falls back to the default answer size', () => {
    const parts = { messages: [{ role: 'user', content: [{ type: 'text', text: 'hello world' }] }] };
    const plain = { messages: [{ role: 'user', content: 'hello world' }] };
    expect(estimateTokens(parts, 100)).toEqual(estimateTokens(plain, 100));
    expect(estimateTokens({ ...plain, max_completion_tokens: 7, max_tokens: 999 }, 100).answer).toBe(7);
    expect(estimateTokens(plain, 100).answer).toBe(100);
  });
});
