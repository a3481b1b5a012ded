// The Redis keys of one distributed run. They all carry the same hash tag, `{<runId>}`, so that in
// a Redis Cluster they live in one slot and a Lua script may touch several of them (Cluster
// refuses scripts whose keys span slots). BullMQ's own keys share the tag through its `prefix`.

export interface RunKeys {
  /** BullMQ's prefix for the chunk queue: its keys become `<prefix>:chunks:…`. */
  readonly queuePrefix: string;
  /** The run's settings, fingerprint and state (a hash; see run-meta.ts). */
  readonly meta: string;
  /** The global cooldown: gen, until (Redis ms), streak, opened, stale (a hash). */
  readonly cooldown: string;
  /** The GCRA budgets: `<bucket>:interval` (ns per unit) and `<bucket>:tat` (Redis µs) (a hash). */
  readonly budget: string;
  /**
   * The run's spend caps and what is spent and held against them (a hash: `max_tokens`,
   * `max_cost`, `spent_tokens`, `spent_cost`, `held_tokens`, `held_cost`, and per holding process
   * `h:<id>:tokens`, `h:<id>:cost`, `h:<id>:seen`; see spend-lease.ts).
   */
  readonly spend: string;
  /** One bit per input line number: set once the line has its final outcome. */
  readonly done: string;
  /** Final outcomes on their way to the coordinator, who writes them to the results file. */
  readonly results: string;
  /** Counters: suppressed duplicates, … (a hash). */
  readonly stats: string;
  /** Pub/sub channel: `opened|extended|ended <gen> <until> <now>` and `done`. */
  readonly channel: string;
}

export const QUEUE_NAME = 'chunks';

export function runKeys(runId: string): RunKeys {
  const tag = `batch-llm:{${runId}}`;
  return {
    queuePrefix: tag,
    meta: `${tag}:meta`,
    cooldown: `${tag}:cooldown`,
    budget: `${tag}:budget`,
    spend: `${tag}:spend`,
    done: `${tag}:done`,
    results: `${tag}:results`,
    stats: `${tag}:stats`,
    channel: `${tag}:events`,
  };
}
