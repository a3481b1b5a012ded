// The shared rate budgets: arithmetic, settling, learning, and several threads on one bucket.
import { learnFromHeaders } from '../../src/attempt/pacer.js';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createControlBlock } from '../../src/control/control-block.js';
import { RateBudget } from '../../src/control/rate-budget.js';
import { runBatch } from '../../src/run/run-batch.js';
import { chatItems } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

function budget(headroom = 1): RateBudget {
  return new RateBudget(createControlBlock(8), headroom);
}

describe('a rate budget', () => {
  it('spaces units at the configured rate and banks no credit while idle', () => {
    const b = budget();
    b.configure('requests', 600); // one every 100 ms
    const t0 = Date.now();
    expect(b.reserve('requests', 1, t0)).toBeCloseTo(t0, 0);
    expect(b.reserve('requests', 1, t0)).toBeCloseTo(t0 + 100, 0);
    expect(b.reserve('requests', 1, t0)).toBeCloseTo(t0 + 200, 0);
    // Ten seconds idle: the next unit is free at once, and only one.
    expect(b.reserve('requests', 1, t0 + 10_000)).toBeCloseTo(t0 + 10_000, 0);
    expect(b.reserve('requests', 1, t0 + 10_000)).toBeCloseTo(t0 + 10_100, 0);
  });

  it('aims under the limit by the headroom', () => {
    const b = budget(0.5);
    b.configure('requests', 600);
    const t0 = Date.now();
    b.reserve('requests', 1, t0);
    expect(b.reserve('requests', 1, t0)).toBeCloseTo(t0 + 200, 0);
  });

  it('lets everything through when no limit is set', () => {
    const b = budget();
    b.configure('tokens', undefined);
    const t0 = Date.now();
    expect(b.reserve('tokens', 1e9, t0)).toBe(t0);
    expect(b.limited('tokens')).toBe(false);
  });

  it('settles a token estimate against the actual usage', () => {
    const b = budget();
    b.configure('tokens', 60_000); // one token per ms
    const t0 = Date.now();
    const slot = b.reserveRequest(1_000, t0); // estimated 1000 tokens
    b.refund('tokens', 900, slot); // the answer took 100
    expect(b.reserve('tokens', 1, t0)).toBeCloseTo(t0 + 100, 0);
    b.refund('tokens', -400, slot); // it took 400 more than estimated after all: charged
    expect(b.reserve('tokens', 1, t0)).toBeCloseTo(t0 + 501, 0);
  });

  it('gives back only what no later reservation stands on (refunds with uneven usage)', () => {
    const b = budget();
    b.configure('tokens', 60_000); // one token per ms
    const t0 = Date.now();
    const first = b.reserveRequest(1_000, t0); // [t0, t0 + 1000)
    const second = b.reserveRequest(1_000, t0); // [t0 + 1000, t0 + 2000)
    expect(second.at).toBeCloseTo(t0 + 1_000, 0);
    // The first used 10: the second already stands on the time after it, nothing comes back.
    b.refund('tokens', 990, first);
    const third = b.reserveRequest(1_000, t0);
    expect(third.at).toBeCloseTo(t0 + 2_000, 0);
    // The last one's unused tokens do come back: nobody stands after it.
    b.refund('tokens', 900, third);
    expect(b.reserveRequest(1, t0).at).toBeCloseTo(t0 + 2_100, 0);
  });

  it('holds both budgets to the time a request really goes out', () => {
    const b = budget();
    b.configure('requests', 600); // one every 100 ms
    b.configure('tokens', 60_000); // one token per ms
    const t0 = Date.now();
    // The token budget sends the second request 1 s after the first.
    expect(b.reserveRequest(1_000, t0).at).toBeCloseTo(t0, 0);
    const second = b.reserveRequest(10, t0);
    expect(second.at).toBeCloseTo(t0 + 1_000, 0);
    // The second answer took nothing: its refund pulls the token budget back to t0 + 1000...
    b.refund('tokens', 10, second);
    // ...but the requests budget knows the second request leaves at t0 + 1000, so the third
    // cannot leave with it: not before 100 ms after it.
    expect(b.reserveRequest(1, t0 + 10).at).toBeCloseTo(t0 + 1_100, 0);
  });

  it('tightens to the limit and the remainder the server reports, and never loosens', () => {
    const b = budget();
    b.configure('requests', 6_000); // one every 10 ms
    const t0 = Date.now();
    learnFromHeaders(b, new Headers({ 'x-ratelimit-limit-requests': '60' }), t0); // one a second
    b.reserve('requests', 1, t0);
    expect(b.reserve('requests', 1, t0)).toBeCloseTo(t0 + 1_000, 0);
    learnFromHeaders(b, new Headers({ 'x-ratelimit-limit-requests': '100000' }), t0);
    expect(b.reserve('requests', 1, t0)).toBeCloseTo(t0 + 2_000, 0);

    const c = budget();
    c.configure('requests', 6_000);
    const t1 = Date.now();
    // Some left: the pace is already right, nothing changes.
    learnFromHeaders(c, new Headers({ 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-reset-requests': '2s' }), t1);
    expect(c.reserve('requests', 1, t1)).toBeCloseTo(t1, 0);
    // Nothing left of a budget of 100 that is whole again in 2 s: one unit comes back in 20 ms.
    learnFromHeaders(c, new Headers({ 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2s' }), t1);
    expect(c.reserve('requests', 1, t1)).toBeGreaterThanOrEqual(t1 + 20);
  });

  it('reads a missing remaining header as unknown, not as an empty budget', () => {
    const b = budget();
    b.configure('requests', 6_000);
    const t0 = Date.now();
    learnFromHeaders(b, new Headers({ 'x-ratelimit-reset-requests': '20s' }), t0);
    expect(b.reserve('requests', 1, t0)).toBeCloseTo(t0, 0);
  });

  it('turns a budget on from the server’s headers when none was configured', () => {
    const b = budget();
    b.configure('tokens', undefined);
    learnFromHeaders(b, new Headers({ 'x-ratelimit-limit-tokens': '60000' }), Date.now());
    expect(b.limited('tokens')).toBe(true);
  });

  it('never lets several threads drawing on one bucket exceed it over any window', async () => {
    const block = createControlBlock(8);
    new RateBudget(block, 1).configure('requests', 12_000); // 200/s: one every 5 ms
    const threads = 3;
    const count = 60;
    const sent = new SharedArrayBuffer(8 * threads * count);
    const entry = new URL('../helpers/ts-entry.mjs', import.meta.url);
    const actor = new URL('../fixtures/budget-actor.ts', import.meta.url).href;
    const workers = Array.from(
      { length: threads },
      (_, t) => new Worker(entry, { workerData: { entry: actor, control: block.buffer, sent, offset: t * count, count } }),
    );
    await Promise.all(workers.map((w) => once(w, 'message')));
    await Promise.all(workers.map((w) => w.terminate()));
    const times = [...new Float64Array(sent)].sort((a, b) => a - b);
    expect(times.every((t) => t > 0)).toBe(true);
    // Over any window of 100 ms, at most 20 (+1 for the window's edge) were let out…
    for (let i = 0; i < times.length; i += 1) {
      const first = times[i] as number;
      const inWindow = times.filter((t) => t >= first && t < first + 100).length;
      expect(inWindow).toBeLessThanOrEqual(21);
    }
    // …and the whole lot took about as long as the rate says: 180 at 200/s ≈ 0.9 s.
    expect((times.at(-1) as number) - (times[0] as number)).toBeGreaterThanOrEqual(880);
  });
});

describe('proactive limits against the simulator', () => {
  const start = useSimulator();

  it('keeps under the server’s RPM with a configured budget: next to no 429s', async () => {
    const sim = await start({ rpm: 6_000, rateWindowMs: 1_000 }); // 100 per 1 s window
    const { summary } = await runBatch({ items: chatItems(250), baseURL: sim.url, threads: 2, concurrency: 32, rpm: 6_000, learnRateLimits: false });
    expect(summary.succeeded).toBe(250);
    expect(summary.rate_limited).toBeLessThanOrEqual(3);
    expect(summary.wall_ms).toBeGreaterThan(1_400); // 250 at 98 per second
  });

  it('learns the limit from the headers when none is configured', async () => {
    const sim = await start({ rpm: 6_000, rateWindowMs: 1_000 });
    const { summary } = await runBatch({ items: chatItems(250), baseURL: sim.url, threads: 2, concurrency: 32 });
    expect(summary.succeeded).toBe(250);
    // The first requests go out before any header was seen; after that the pace holds.
    expect(summary.rate_limited).toBeLessThanOrEqual(40);
  });

  it('keeps under the server’s TPM with a token budget', async () => {
    const sim = await start({ tpm: 60_000, rateWindowMs: 1_000, completionTokens: 10 }); // 1000 tokens per window
    const items = chatItems(100).map((item) => ({ ...item, body: { ...item.body, max_tokens: 10 } }));
    const { summary } = await runBatch({ items, baseURL: sim.url, threads: 1, concurrency: 16, tpm: 60_000, learnRateLimits: false });
    expect(summary.succeeded).toBe(100);
    expect(summary.rate_limited).toBeLessThanOrEqual(3);
  });
});
