// What the baselines (benchmarks/baselines/*.ts) share: their options and result, the official
// openai client set up as its docs show it (default fetch, default retries: maxRetries 2, which
// honour retry-after-ms), and one item's work. Each baseline file only differs in the limiter.
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';

export interface BaselineItem {
  custom_id: string;
  body: ChatCompletionCreateParamsNonStreaming;
}

export interface BaselineOptions {
  baseURL: string;
  items: Iterable<BaselineItem>;
  /** Requests in flight at once. */
  concurrency: number;
  /**
   * Requests per minute to pace to. Only limiters with a rate feature use it (p-queue's interval
   * cap, bottleneck's reservoir); p-limit has none and relies on the client's retries.
   */
  rpm?: number | undefined;
  /** Work on each completion (parse, validate, post-process), as a task would do it in batch-llm. */
  handle?: ((completion: ChatCompletion, customId: string) => unknown) | undefined;
}

export interface BaselineResult {
  succeeded: number;
  failed: number;
  /** Failed items by the error's class (RateLimitError, APIConnectionError …). */
  errors: Record<string, number>;
  /** From the start to the last item's end. */
  wall_ms: number;
  /** From the start to the first item's end. */
  first_result_ms: number;
}

/** The client as openai-node's README makes it: everything default but where to send requests. */
export function defaultClient(baseURL: string): OpenAI {
  return new OpenAI({ baseURL, apiKey: 'no-key' });
}

/** Counts outcomes; `run` wraps one item so that a failure is counted instead of thrown. */
export class Tally {
  readonly #started = performance.now();
  succeeded = 0;
  failed = 0;
  readonly errors: Record<string, number> = {};
  #first = 0;
  #last = this.#started;

  async run(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
      this.succeeded += 1;
    } catch (error) {
      this.failed += 1;
      const name = error instanceof Error ? error.constructor.name : typeof error;
      this.errors[name] = (this.errors[name] ?? 0) + 1;
    }
    this.#last = performance.now();
    if (this.#first === 0) this.#first = this.#last;
  }

  result(): BaselineResult {
    return {
      succeeded: this.succeeded,
      failed: this.failed,
      errors: this.errors,
      wall_ms: this.#last - this.#started,
      first_result_ms: this.#first - this.#started,
    };
  }
}

/** One item: the request through the client (with its own retries), then the caller's work on the answer. */
export function oneItem(client: OpenAI, item: BaselineItem, handle: BaselineOptions['handle']): () => Promise<unknown> {
  return async () => {
    const completion = await client.chat.completions.create(item.body);
    return handle === undefined ? completion : await handle(completion, item.custom_id);
  };
}
