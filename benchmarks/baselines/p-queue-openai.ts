// Baseline: p-queue + the official openai client (default retries), on one thread. With `rpm` it
// uses p-queue's rate limiting as its README shows it — `intervalCap` runs per `interval` — with
// `strict: true` (a sliding window, which p-queue recommends for APIs that enforce rate limits).
// The cap is the per-second share of the rpm (rpm / 60 per 1000 ms): a per-minute cap would let
// the whole minute's budget out in the first second. Items are added with backpressure
// (`onSizeLessThan`), as p-queue's README advises for large inputs.
import PQueue from 'p-queue';
import { defaultClient, oneItem, Tally, type BaselineOptions, type BaselineResult } from '../lib/baseline.js';

export const name = 'p-queue + openai';

export async function run(options: BaselineOptions): Promise<BaselineResult> {
  const client = defaultClient(options.baseURL);
  const queue =
    options.rpm === undefined
      ? new PQueue({ concurrency: options.concurrency })
      : new PQueue({ concurrency: options.concurrency, intervalCap: Math.max(1, Math.floor(options.rpm / 60)), interval: 1000, strict: true });
  const tally = new Tally();
  for (const item of options.items) {
    void queue.add(() => tally.run(oneItem(client, item, options.handle)));
    if (queue.size >= options.concurrency * 2) await queue.onSizeLessThan(options.concurrency);
  }
  await queue.onIdle();
  return tally.result();
}
