// Token usage as reported in an OpenAI-compatible response body.

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
