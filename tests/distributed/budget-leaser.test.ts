// Budget leases against a real redis-server: several "processes" (each its own control block,
// leaser and Redis connection, as in separate worker processes) take leased credit the way
// attempts do, and together get the run's rate — not one rate each; an idle one leases nothing
// and its credit lapses; processes waiting out a cooldown hold credit before it ends, and an
// attempt waiting for credit when the gate closes lets go; an interval learned by one reaches
// the others.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createControlBlock, I32, type ControlBlock } from '../../src/control/control-block.js';
import { holdGateUntil } from '../../src/control/cooldown.js';
import { LeaseCredit } from '../../src/control/lease-credit.js';
import { RateBudget } from '../../src/control/rate-budget.js';
import { BudgetLeaser, SLICE_MS } from '../../src/distributed/budget-leaser.js';
import { CooldownMirror } from '../../src/distributed/cooldown-mirror.js';
import { runKeys, type RunKeys } from '../../src/distributed/run-keys.js';
import { RunScripts } from '../../src/distributed/scripts.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let server: TestRedis;
let runNo = 0;
let keys: RunKeys;
const never = new Promise<never>(() => {});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => server.stop());
beforeEach(() => {
  runNo += 1;
  keys = runKeys(`lease-${runNo}`);
});

interface Process {
  block: ControlBlock;
  credit: LeaseCredit;
  budget: RateBudget;
  leaser: BudgetLeaser;
  scripts: RunScripts;
}

/** One process of the run: its control block with the local budget at `rpm`, and its leaser. */
function process(rpm: number): Process {
  const redis: Redis = server.client();
  const block = createControlBlock(64);
  const budget = new RateBudget(block, 1);
  budget.configure('requests', rpm);
  const scripts = new RunScripts(redis, keys);
  const mirror = new CooldownMirror(block, scripts, server.client(), keys, { baseMs: 1000, maxMs: 60_000 });
  const leaser = new BudgetLeaser(block, scripts, mirror, (error) => {
    throw error;
  });
  leaser.start();
  return { block, credit: new LeaseCredit(block), budget, leaser, scripts };
}

/** `takers` attempts taking one request each, again and again, until `until`; resolves with how many went. */
async function takeUntil(credit: LeaseCredit, takers: number, until: number): Promise<number> {
  let taken = 0;
  await Promise.all(
    Array.from({ length: takers }, async () => {
      while (Date.now() < until) {
        await credit.take({ requests: 1, tokens: 0 }, never);
        if (Date.now() < until) taken += 1;
      }
    }),
  );
  return taken;
}

describe('budget leases', () => {
  it('three busy processes together get the run’s rate, each a share', async () => {
    // 60,000 a minute: one request per ms, 100 per slice.
    const processes = [process(60_000), process(60_000), process(60_000)];
    const start = Date.now();
    const runMs = 1000;
    const taken = await Promise.all(processes.map((p) => takeUntil(p.credit, 20, start + runMs)));
    for (const p of processes) p.leaser.stop();
    const total = taken.reduce((a, b) => a + b, 0);
    const elapsed = Date.now() - start;
    // Never more than the run's rate plus what the slices at the window's edges allow (each
    // process holds at most its current slice and half a slice carried); without leases each
    // process alone would take ~1,000.
    expect(total).toBeLessThanOrEqual(elapsed + 3 * 1.5 * SLICE_MS);
    expect(total).toBeGreaterThanOrEqual(runMs * 0.7);
    for (const share of taken) expect(share).toBeGreaterThan(total / 6);
  });

  it('an idle process leases nothing, and the credit it did not use lapses', async () => {
    const p = process(60_000);
    await sleep(SLICE_MS * 2);
    expect(p.leaser.leases).toBe(0);
    // One take: one slice (100 units), 99 of them left over.
    await p.credit.take({ requests: 1, tokens: 0 }, never);
    await sleep(20);
    const leased = p.leaser.leases;
    expect(leased).toBeGreaterThanOrEqual(1);
    expect(p.credit.credit('requests')).toBeGreaterThan(0);
    await sleep(SLICE_MS * 3);
    expect(p.credit.credit('requests')).toBe(0);
    // Nobody took anything meanwhile: no more slices were leased.
    expect(p.leaser.leases).toBe(leased);
    p.leaser.stop();
  });

  it('processes waiting out a cooldown lease their first slices before it ends, so that all of them resume at once', async () => {
    const processes = [process(60_000), process(60_000), process(60_000)];
    const end = Date.now() + 300;
    for (const p of processes) holdGateUntil(p.block, end);
    await sleep(200);
    // Nobody asked for anything yet: the end is still farther off than the lead.
    for (const p of processes) expect(p.leaser.leases).toBe(0);
    await sleep(end - 10 - Date.now());
    // Each holds a short slice already (an eighth of one: 12–13 units at one per ms), none a whole one.
    for (const p of processes) {
      expect(p.leaser.leases).toBe(1);
      expect(p.credit.credit('requests')).toBeGreaterThan(0);
      expect(p.credit.credit('requests')).toBeLessThan(SLICE_MS / 2);
    }
    for (const p of processes) p.leaser.stop();
  });

  it('an attempt waiting for credit when a cooldown closes the gate goes back to it, taking nothing', async () => {
    // 600 a minute: a slice is one request. Another holder has leased the next 10 s already, so
    // this process's next slice begins only then.
    const p = process(600);
    await p.scripts.lease({ requests: { units: 100, intervalNs: 100_000_000n }, tokens: { units: 0, intervalNs: 0n } });
    const gateOpen = () => (Atomics.load(p.block.i32, I32.GEN) & 1) === 0;
    const taking = p.credit.take({ requests: 1, tokens: 0 }, never, gateOpen);
    await sleep(50);
    holdGateUntil(p.block, Date.now() + 20_000);
    // Woken by the leaser when it sees the gate close, not 10 s later by the slice.
    const outcome = await Promise.race([taking, sleep(2000).then(() => 'still waiting')]);
    expect(outcome).toBe(false);
    expect(p.credit.credit('requests')).toBeLessThanOrEqual(0);
    p.leaser.stop();
  });

  it('an interval learned by one process reaches the others with their next lease, and only tightens', async () => {
    const a = process(60_000);
    const b = process(60_000);
    // A learned from a server that the limit is 6,000 a minute (10 ms per request).
    a.budget.slowToInterval('requests', 10_000_000n);
    await a.credit.take({ requests: 1, tokens: 0 }, never);
    await b.credit.take({ requests: 1, tokens: 0 }, never);
    await sleep(20);
    expect(b.budget.interval('requests')).toBe(10_000_000n);
    // A looser interval never loosens the run's.
    const c = process(600_000);
    await c.credit.take({ requests: 1, tokens: 0 }, never);
    await sleep(20);
    expect(c.budget.interval('requests')).toBe(10_000_000n);
    for (const p of [a, b, c]) p.leaser.stop();
  });
});
