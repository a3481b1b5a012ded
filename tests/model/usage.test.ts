import { describe, expect, it } from 'vitest';
import { usageFromBody } from '../../src/model/usage.js';

describe('usage as each endpoint reports it', () => {
  it('reads the Responses API’s input and output tokens, with their cached and reasoning details', () => {
    const body = {
      object: 'response',
      usage: { input_tokens: 120, input_tokens_details: { cached_tokens: 100 }, output_tokens: 30, output_tokens_details: { reasoning_tokens: 12 }, total_tokens: 150 },
    };
    expect(usageFromBody(body)).toEqual({ prompt: 120, completion: 30, total: 150, cached: 100, reasoning: 12 });
  });

  it('reads an embedding’s prompt and total tokens, with no completion', () => {
    expect(usageFromBody({ object: 'list', data: [], usage: { prompt_tokens: 8, total_tokens: 8 } })).toEqual({ prompt: 8, completion: 0, total: 8, cached: 0, reasoning: 0 });
  });

  it('reads chat and text completions as before', () => {
    expect(usageFromBody({ usage: { prompt_tokens: 3, completion_tokens: 4 } })).toEqual({ prompt: 3, completion: 4, total: 7, cached: 0, reasoning: 0 });
  });
});
