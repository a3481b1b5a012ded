// Token usage as reported in an OpenAI-compatible response body. The endpoints spell it two ways:
// chat and text completions `prompt_tokens` / `completion_tokens` (embeddings only the prompt
// and the total), the Responses API `input_tokens` / `output_tokens`. Both come out as one Usage,
// so that budgets, caps, cost and summaries add them up alike.

/** Tokens, as the response's `usage` counts them. */
export interface Usage {
  prompt: number;
  completion: number;
  total: number;
  cached: number;
  reasoning: number;
}

export function emptyUsage(): Usage {
  return { prompt: 0, completion: 0, total: 0, cached: 0, reasoning: 0 };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** The usage a response body carries, or null when it has none. */
export function usageFromBody(body: unknown): Usage | null {
  const usage = field(body, 'usage');
  if (typeof usage !== 'object' || usage === null) return null;
  if (field(usage, 'input_tokens') !== undefined || field(usage, 'output_tokens') !== undefined) {
    // The Responses API.
    const input = count(field(usage, 'input_tokens'));
    const output = count(field(usage, 'output_tokens'));
    return {
      prompt: input,
      completion: output,
      total: count(field(usage, 'total_tokens')) || input + output,
      cached: count(field(field(usage, 'input_tokens_details'), 'cached_tokens')),
      reasoning: count(field(field(usage, 'output_tokens_details'), 'reasoning_tokens')),
    };
  }
  // Chat and text completions; embeddings report no completion_tokens, which counts as 0.
  const prompt = count(field(usage, 'prompt_tokens'));
  const completion = count(field(usage, 'completion_tokens'));
  return {
    prompt,
    completion,
    total: count(field(usage, 'total_tokens')) || prompt + completion,
    cached: count(field(field(usage, 'prompt_tokens_details'), 'cached_tokens')),
    reasoning: count(field(field(usage, 'completion_tokens_details'), 'reasoning_tokens')),
  };
}

/** Adds `more` into `into`. */
export function addUsage(into: Usage, more: Usage): void {
  into.prompt += more.prompt;
  into.completion += more.completion;
  into.total += more.total;
  into.cached += more.cached;
  into.reasoning += more.reasoning;
}
