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

  it('keeps the base URL\'s password and credential query values out of the run\'s meta in Redis', async () => {
    const sim = await start({ latencyMs: 1 });
    const items = chatItems(10);
    const password = 'meta-password-0123';
    const token = 'meta-token-0123456789';
    const baseURL = `${sim.url.replace('http://', `http://gw:${password}@`)}?api-version=2024-10-21&key=${token}`;
    const results: ItemResult[] = [];
    for await (const result of coordinateBatch({ items, baseURL, threads: 1, concurrency: 4 }, { redis: redis.url, runId: 'meta-secrets', chunkSize: 5 })) results.push(result);
    expectEachSucceededOnce(items, results);
    const keys = await redis.client().keys('batch-llm:{meta-secrets}*');
    const meta = (await Promise.all(keys.map(async (key) => ((await redis.client().type(key)) === 'hash' ? JSON.stringify(await redis.client().hgetall(key)) : '')))).join('\n');
    expect(meta).toContain('api-version=2024-10-21');
    expect(meta).not.toContain(password);
    expect(meta).not.toContain(token);
  }, 30_000);
});
