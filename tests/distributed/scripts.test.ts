// The run's Lua scripts against a real redis-server: the cooldown protocol across processes
// (open / join / extend / stale / end by time), budget leases, exactly-once commits and the
// spend room of the run's caps.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { runKeys } from '../../src/distributed/run-keys.js';
import { RunScripts } from '../../src/distributed/scripts.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let server: TestRedis;
let redis: Redis;
let runNo = 0;
let keys = runKeys('unit-0');
let scripts: RunScripts;
const policy = { baseMs: 1000, maxMs: 60_000 };

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.stop());
beforeEach(() => {
  runNo += 1;
  keys = runKeys(`unit-${runNo}`);
  scripts = new RunScripts(redis, keys);
});

describe('global cooldown', () => {
  it('opens once per burst; same-burst 429s join or extend by max; an older one is stale', async () => {
    const first = await scripts.report([{ sentGen: 0, hintMs: 2000 }, { sentGen: 0, hintMs: 1000 }, { sentGen: 0, hintMs: 5000 }], policy);
    expect(first.results).toEqual(['opened', 'joined', 'extended']);
    expect(first.gen).toBe(1);
    expect(first.until - first.now).toBeGreaterThanOrEqual(4999);
    // A shorter hint later never shortens it.
    const later = await scripts.report([{ sentGen: 0, hintMs: 10 }], policy);
    expect(later.results).toEqual(['joined']);
    expect(later.until).toBe(first.until);
    expect(await redis.hget(keys.cooldown, 'opened')).toBe('1');
  });

  it('ends from Redis time in whichever script runs next, publishes `ended`, and then old 429s are stale', async () => {
    const subscriber = server.client();
    const messages: string[] = [];
    await subscriber.subscribe(keys.channel);
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await scripts.report([{ sentGen: 0, hintMs: 60 }], policy);
    expect((await scripts.state()).gen).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 90));
    const stale = await scripts.report([{ sentGen: 0, hintMs: 5000 }], policy);
    expect(stale.results).toEqual(['stale']);
    expect(stale.gen).toBe(2);
    // A 429 of the new epoch opens the next cooldown.
    expect((await scripts.report([{ sentGen: 2, hintMs: 100 }], policy)).results).toEqual(['opened']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(messages.map((m) => m.split(' ')[0])).toEqual(['opened', 'ended', 'opened']);
    expect(await redis.hget(keys.cooldown, 'stale')).toBe('1');
    subscriber.disconnect();
  });

  it('escalates the pause without a hint while no success comes between cooldowns', async () => {
    const one = await scripts.report([{ sentGen: 0, hintMs: null }], { baseMs: 40, maxMs: 1000 });
    expect(one.until - one.now).toBe(40);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const two = await scripts.report([{ sentGen: 2, hintMs: null }], { baseMs: 40, maxMs: 1000 });
    expect(two.results).toEqual(['opened']);
    expect(two.until - two.now).toBe(80);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await scripts.state(true)).gen).toBe(4);
    const three = await scripts.report([{ sentGen: 4, hintMs: null }], { baseMs: 40, maxMs: 1000 });
    expect(three.until - three.now).toBe(40);
  });
});

/** A lease of `units` of one bucket and none of the other. */
function ask(bucket: 'requests' | 'tokens', units: number, intervalNs: bigint): Record<'requests' | 'tokens', { units: number; intervalNs: bigint }> {
  const none = { units: 0, intervalNs: 0n };
  return { requests: none, tokens: none, [bucket]: { units, intervalNs } };
}

describe('budget leases', () => {
  it('hands out slices that never overlap, across connections', async () => {
    const others = [server.client(), server.client(), server.client()].map((client) => new RunScripts(client, keys));
    await scripts.tighten('requests', 1_000_000n); // 1 ms per request
    const leases = (await Promise.all(others.flatMap((s) => Array.from({ length: 40 }, () => s.lease(ask('requests', 7, 0n))))))
      .map((lease) => lease.requests)
      .sort((a, b) => a.startUs - b.startUs);
    expect(leases).toHaveLength(120);
    for (let i = 1; i < leases.length; i += 1) {
      const previous = leases[i - 1]!;
      expect(leases[i]!.startUs).toBeGreaterThanOrEqual(previous.startUs + previous.units * 1000);
    }
  });

  it('only tightens the interval, and an unlimited bucket leases nothing', async () => {
    expect((await scripts.lease(ask('tokens', 10, 0n))).tokens.startOffsetUs).toBeNull();
    expect((await scripts.lease(ask('tokens', 10, 5000n))).tokens.intervalNs).toBe(5000);
    expect((await scripts.lease(ask('tokens', 10, 100n))).tokens.intervalNs).toBe(5000);
    expect(await scripts.tighten('tokens', 200n)).toBe(5000);
    expect(await scripts.tighten('tokens', 9000n)).toBe(9000);
  });

  it('a lease after idle time starts now: an idle or dead process holds no share', async () => {
    await scripts.tighten('requests', 1_000_000n);
    await scripts.lease(ask('requests', 5, 0n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await scripts.lease(ask('requests', 5, 0n))).requests.startOffsetUs).toBe(0);
  });
});

describe('commits', () => {
  it('take each line’s first final outcome and refuse a second', async () => {
    expect(await scripts.commit([{ line: 3, outcome: 'a' }, { line: 4, outcome: 'b' }])).toEqual([true, true]);
    expect(await scripts.commit([{ line: 4, outcome: 'late' }, { line: 9, outcome: 'c' }])).toEqual([false, true]);
    const entries = await redis.xrange(keys.results, '-', '+');
    expect(entries.map(([, fields]) => fields[3])).toEqual(['a', 'b', 'c']);
    expect(await redis.hget(keys.stats, 'duplicates')).toBe('1');
    expect(await scripts.pending([1, 3, 4, 5, 9, 1000])).toEqual([1, 5, 1000]);
  });

  it('leave a line open after an abort: its real outcome is taken later, once', async () => {
    expect(await scripts.commit([{ line: 7, final: false, outcome: 'aborted' }])).toEqual([true]);
    expect(await scripts.pending([7])).toEqual([7]);
    expect(await scripts.commit([{ line: 7, outcome: 'ok' }, { line: 7, final: false, outcome: 'aborted again' }])).toEqual([true, false]);
    expect(await scripts.pending([7])).toEqual([]);
    const entries = await redis.xrange(keys.results, '-', '+');
    expect(entries.map(([, fields]) => fields[3])).toEqual(['aborted', 'ok']);
  });
});

describe('spend room', () => {
  const none = { released: 0, used: 0, wanted: 0, least: 0 };
  const tokens = (ask: Partial<typeof none>) => ({ tokens: { ...none, ...ask }, cost: none });

  it('grants what fits of cap − spent − held: the wanted block, else the least, else nothing', async () => {
    await scripts.setSpendCaps(1000, null);
    expect((await scripts.spend('a', tokens({ wanted: 800, least: 100 }), 3000)).granted.tokens).toBe(800);
    // 200 left: b's block does not fit, its item does.
    const b = await scripts.spend('b', tokens({ wanted: 400, least: 150 }), 3000);
    expect(b.granted.tokens).toBe(150);
    expect(b.othersHold).toBe(true);
    expect((await scripts.spend('b', tokens({ wanted: 100, least: 100 }), 3000)).granted.tokens).toBe(0);
    // a spends 300 of its 800 and gives the rest back: spent 300, held 150 (b), room 550.
    expect((await scripts.spend('a', tokens({ used: 300, released: 500 }), 3000)).spent.tokens).toBe(300);
    const again = await scripts.spend('b', tokens({ wanted: 550, least: 100 }), 3000);
    expect(again.granted.tokens).toBe(550);
    // a holds nothing now: nobody else holds anything for b to wait for once b gives all back.
    expect(again.othersHold).toBe(false);
    const state = await scripts.spendState();
    expect(state).toMatchObject({ maxTokens: 1000, maxCost: null, spentTokens: 300 });
  });

  it('keeps fractions of a cost exactly enough, and takes a holder unseen for liveMs for gone', async () => {
    await scripts.setSpendCaps(null, 0.01);
    const cost = (ask: Partial<typeof none>) => ({ tokens: none, cost: { ...none, ...ask } });
    expect((await scripts.spend('a', cost({ wanted: 0.0025, least: 0.0025 }), 3000)).granted.cost).toBeCloseTo(0.0025, 12);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const b = await scripts.spend('b', cost({ wanted: 0.01, least: 0.0075 }), 10);
    expect(b.granted.cost).toBeCloseTo(0.0075, 12);
    expect(b.othersHold).toBe(false);
  });
});
