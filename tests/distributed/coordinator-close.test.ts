// The coordinator as a library (coordinateBatch), working its items itself: once its stream has
// ended it holds no connection to Redis, so the process it runs in can end by itself. (A
// connection left open kept the CLI's coordinator alive until its exit timer, 2 s after the run.)

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinateBatch } from '../../src/distributed/coordinator.js';
import { chatItems, expectEachSucceededOnce } from '../helpers/batch.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { useSimulator } from '../helpers/simulator.js';
import type { ItemResult } from '../../src/model/item-result.js';

const start = useSimulator();
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => redis.stop());

/** The names of the connections Redis has from the run's own processes (not this test's client). */
async function runConnections(): Promise<string[]> {
  const list = await redis.client().client('LIST');
  return String(list)
    .split('\n')
    .map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith('batch-llm'));
}

describe('the coordinator library', () => {
  it('closes every connection it opened once the run is over', async () => {
    const sim = await start({ latencyMs: 5 });
    const items = chatItems(40);
    const stream = coordinateBatch({ items, baseURL: sim.url, threads: 1, concurrency: 8 }, { redis: redis.url, runId: 'close', chunkSize: 10 });
    const results: ItemResult[] = [];
    for await (const result of stream) results.push(result);
    expectEachSucceededOnce(items, results);
    // Redis sees a closed socket a moment later: look until it has, or for 2 s.
    let open = await runConnections();
    for (const until = Date.now() + 2000; open.length > 0 && Date.now() < until; open = await runConnections()) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(open).toEqual([]);
  }, 30_000);
});
