import { beforeAll, describe, expect, it } from 'vitest';
import { answerCap, estimateTokens, loadTokenizer } from '../../src/attempt/token-estimate.js';

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

describe('estimating the tokens of the other endpoints', () => {
  beforeAll(loadTokenizer);

  it('counts an embedding’s input — a text, texts, a token array or token arrays — and no answer at all', () => {
    const words = estimateTokens({ input: 'hello world' }, 256, 'embeddings');
    expect(words).toEqual({ prompt: 2, answer: 0 });
    expect(estimateTokens({ input: ['hello world', 'hello world'] }, 256, 'embeddings')).toEqual({ prompt: 4, answer: 0 });
    expect(estimateTokens({ input: [15339, 1917, 0] }, 256, 'embeddings')).toEqual({ prompt: 3, answer: 0 });
    expect(estimateTokens({ input: [[1, 2], [3, 4, 5]] }, 256, 'embeddings')).toEqual({ prompt: 5, answer: 0 });
    expect(answerCap('embeddings', { input: 'x', max_tokens: 99 })).toBe(0);
  });

  it('counts a text completion’s prompt and the Responses API’s input and instructions, with their own answer caps', () => {
    expect(estimateTokens({ prompt: 'hello world', max_tokens: 7 }, 256, 'completions')).toEqual({ prompt: 2, answer: 7 });
    expect(estimateTokens({ prompt: ['hello world', 'hello world'] }, 256, 'completions')).toEqual({ prompt: 4, answer: 256 });
    expect(estimateTokens({ input: 'hello world', instructions: 'hello world', max_output_tokens: 9 }, 256, 'responses')).toEqual({ prompt: 4, answer: 9 });
    // Input messages count like chat messages; max_tokens is not the Responses API's cap.
    const messages = { input: [{ role: 'user', content: [{ type: 'input_text', text: 'hello world' }] }], max_tokens: 5 };
    expect(estimateTokens(messages, 256, 'responses')).toEqual({ prompt: 3 + 3 + 2, answer: 256 });
    expect(answerCap('chat', { max_tokens: 5 })).toBe(5);
    expect(answerCap('chat', {})).toBeNull();
  });
});
