// Baseline: bottleneck + the official openai client (default retries), on one thread. With `rpm`
// it uses bottleneck's reservoir as its README shows for rate limits — `reservoir` jobs, refilled
// to `reservoirRefreshAmount` every `reservoirRefreshInterval` — plus `maxConcurrent`. The
// reservoir is the per-second share of the rpm (refilled every 1000 ms) so the minute's budget
// does not go out in one burst.
import Bottleneck from 'bottleneck';
import { defaultClient, oneItem, Tally, type BaselineOptions, type BaselineResult } from '../lib/baseline.js';

export const name = 'bottleneck + openai';

export async function run(options: BaselineOptions): Promise<BaselineResult> {
  const client = defaultClient(options.baseURL);
  const perSecond = options.rpm === undefined ? null : Math.max(1, Math.floor(options.rpm / 60));
  const limiter = new Bottleneck({
    maxConcurrent: options.concurrency,
    ...(perSecond === null ? {} : { reservoir: perSecond, reservoirRefreshAmount: perSecond, reservoirRefreshInterval: 1000 }),
  });
  const tally = new Tally();
  try {
    await Promise.all(Array.from(options.items, (item) => limiter.schedule(() => tally.run(oneItem(client, item, options.handle)))));
  } finally {
    await limiter.stop({ dropWaitingJobs: false });
  }
  return tally.result();
}
