// Baseline: p-limit + the official openai client, on one thread — what most scripts do. As in
// p-limit's README, every item is wrapped in `limit(...)` and awaited together; the client keeps
// its default retries (maxRetries 2, honouring retry-after-ms), so 429s are retried per request,
// with no shared pause and no idea of the rate limit.
import pLimit from 'p-limit';
import { defaultClient, oneItem, Tally, type BaselineOptions, type BaselineResult } from '../lib/baseline.js';

export const name = 'p-limit + openai';

export async function run(options: BaselineOptions): Promise<BaselineResult> {
  const client = defaultClient(options.baseURL);
  const limit = pLimit(options.concurrency);
  const tally = new Tally();
  await Promise.all(Array.from(options.items, (item) => limit(() => tally.run(oneItem(client, item, options.handle)))));
  return tally.result();
}
