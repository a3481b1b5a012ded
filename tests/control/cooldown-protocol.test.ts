// The cooldown protocol across real threads, with the interleavings forced by gates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlBlock, I32, I64, type ControlBlock } from '../../src/control/control-block.js';
import { extendCooldown, epochOf, reportRateLimit, unpackCooldown } from '../../src/control/cooldown.js';
import { CooldownKeeper } from '../../src/control/cooldown-keeper.js';
import type { BatchEvent } from '../../src/model/events.js';
import { Actor, Gates } from '../helpers/actors.js';

function untilOf(block: ControlBlock): number {
  return epochOf(block) + unpackCooldown(Atomics.load(block.i64, I64.COOLDOWN)).relMs;
}

type CooldownEvent = Extract<BatchEvent, { type: 'cooldown-opened' | 'cooldown-ended' }>;

function nextEvent(events: BatchEvent[], type: CooldownEvent['type']): Promise<CooldownEvent> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const event = events.find((e): e is CooldownEvent => e.type === type);
      if (event) {
        clearInterval(timer);
        resolve(event);
      }
    }, 1);
  });
}

describe('cooldown protocol across threads', () => {
  const gates = new Gates();
  let nextGate = 0;
  let block: ControlBlock;
  let actors: Actor[];

  beforeAll(async () => {
    block = createControlBlock(8);
    actors = await Promise.all([0, 1, 2].map(() => Actor.start(block.buffer, gates)));
  });
  afterAll(async () => {
    await Promise.all(actors.map((actor) => actor.stop()));
  });

  /** Puts the shared block back to a fresh state between scenarios (the actors keep their views). */
  function reset(limit = 8): void {
    block.i32.fill(0);
    Atomics.store(block.i32, I32.LIMIT, limit);
    Atomics.store(block.i32, I32.CEILING, limit);
    Atomics.store(block.i64, I64.COOLDOWN, 0n);
    Atomics.store(block.i64, I64.REQUESTS, 0n);
    Atomics.store(block.i64, I64.RATE_LIMITED, 0n);
  }

  const sent: number[] = [0, 0, 0];
  function send(index: number, ...steps: Parameters<Actor['send']>): number {
    const actor = actors[index] as Actor;
    actor.send(...steps);
    const first = sent[index] as number;
    sent[index] = first + steps.length;
    return first + steps.length - 1; // index of the last step's reply
  }
  const actor = (index: number): Actor => actors[index] as Actor;

  it('opens exactly one cooldown when three threads report 429s of one burst at the same moment (20 times)', async () => {
    for (let round = 0; round < 20; round += 1) {
      reset();
      const gate = nextGate++;
      const replies = [0, 1, 2].map((i) => send(i, { op: 'gate', index: gate }, { op: 'report', sentInGen: 0, hintMs: 300 }));
      gates.open(gate);
      const results = await Promise.all(replies.map((n, i) => actor(i).reply(n)));
      const values = results.map((r) => r.value);
      expect(values.filter((v) => v === 'opened')).toHaveLength(1);
      // The others join it (a later report of the same hint may push the end out by a ms or so).
      expect(values.filter((v) => v === 'joined' || v === 'extended')).toHaveLength(2);
      expect(Atomics.load(block.i32, I32.GEN)).toBe(1);
      expect(Atomics.load(block.i32, I32.COOLDOWNS)).toBe(1);
      expect(Atomics.load(block.i64, I64.RATE_LIMITED)).toBe(3n);
    }
  });

  it('lets a longer hint extend the open cooldown and never lets a shorter one shorten it', async () => {
    reset();
    expect((await actor(0).reply(send(0, { op: 'report', sentInGen: 0, hintMs: 300 }))).value).toBe('opened');
    const first = untilOf(block);
    expect((await actor(1).reply(send(1, { op: 'report', sentInGen: 0, hintMs: 50 }))).value).toBe('joined');
    expect(untilOf(block)).toBe(first);
    expect((await actor(2).reply(send(2, { op: 'report', sentInGen: 0, hintMs: 900 }))).value).toBe('extended');
    expect(untilOf(block)).toBeGreaterThanOrEqual(first + 550);
    expect(Atomics.load(block.i32, I32.GEN)).toBe(1);
  });

  it('treats a 429 for a request sent before a cooldown that has ended as stale', async () => {
    reset();
    const events: BatchEvent[] = [];
    const keeper = new CooldownKeeper(block, { rampStart: 2, onEvent: (e) => events.push(e) });
    try {
      // Both requests go out in generation 0; one 429 comes back at once, the other only later.
      expect((await actor(0).reply(send(0, { op: 'report', sentInGen: 0, hintMs: 40 }))).value).toBe('opened');
      await nextEvent(events, 'cooldown-ended');
      expect(Atomics.load(block.i32, I32.GEN)).toBe(2);
      expect((await actor(1).reply(send(1, { op: 'report', sentInGen: 0, hintMs: 5_000 }))).value).toBe('stale');
      expect(Atomics.load(block.i32, I32.GEN)).toBe(2);
      expect(Atomics.load(block.i32, I32.COOLDOWNS)).toBe(1);
      // The ramp starts low after the cooldown.
      expect(Atomics.load(block.i32, I32.LIMIT)).toBe(2);
    } finally {
      await keeper.stop();
    }
  });

  it('holds every thread at the gate until the main thread ends the cooldown, then releases them all', async () => {
    reset();
    const events: BatchEvent[] = [];
    const keeper = new CooldownKeeper(block, { rampStart: 8, onEvent: (e) => events.push(e) });
    try {
      await actor(0).reply(send(0, { op: 'report', sentInGen: 0, hintMs: 150 }));
      const until = untilOf(block);
      const waits = [1, 2].map((i) => send(i, { op: 'waitUntilOpen' }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(actor(1).has(waits[0] as number) || actor(2).has(waits[1] as number)).toBe(false);
      const [r1, r2] = await Promise.all([actor(1).reply(waits[0] as number), actor(2).reply(waits[1] as number)]);
      const ended = await nextEvent(events, 'cooldown-ended');
      for (const reply of [r1, r2]) {
        expect(reply.value).toEqual({ gen: 2, waitedForCooldown: true });
        expect(reply.at).toBeGreaterThanOrEqual(until);
        expect(reply.at).toBeGreaterThanOrEqual(ended.at - 1);
      }
    } finally {
      await keeper.stop();
    }
  });

  it('does not end a cooldown whose end time is not yet published', async () => {
    reset();
    const keeper = new CooldownKeeper(block, { rampStart: 8 });
    try {
      // An opener has won the CAS but not yet stored its end time: the word still says generation 0.
      Atomics.store(block.i32, I32.GEN, 1);
      Atomics.notify(block.i32, I32.GEN);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(Atomics.load(block.i32, I32.GEN)).toBe(1);
      const published = Date.now();
      extendCooldown(block, 1, published + 60 - epochOf(block));
      while (Atomics.load(block.i32, I32.GEN) === 1) await new Promise((resolve) => setTimeout(resolve, 2));
      expect(Date.now()).toBeGreaterThanOrEqual(published + 60);
      expect(Atomics.load(block.i32, I32.GEN)).toBe(2);
    } finally {
      await keeper.stop();
    }
  });

  it('does not end a cooldown by a joiner’s zero hint published before its opener’s end', async () => {
    reset();
    const keeper = new CooldownKeeper(block, { rampStart: 8 });
    try {
      Atomics.store(block.i32, I32.GEN, 1); // the opener has won the CAS, nothing published yet
      Atomics.notify(block.i32, I32.GEN);
      // A joiner of the same burst reports "retry now" first.
      expect(reportRateLimit(block, 0, 0, { baseMs: 200, maxMs: 1000 }, Date.now())).toBe('extended');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(Atomics.load(block.i32, I32.GEN)).toBe(1);
      const published = Date.now();
      extendCooldown(block, 1, published + 60 - epochOf(block)); // the opener's end
      while (Atomics.load(block.i32, I32.GEN) === 1) await new Promise((resolve) => setTimeout(resolve, 2));
      expect(Date.now()).toBeGreaterThanOrEqual(published + 60);
    } finally {
      await keeper.stop();
    }
  });

  it('ends a cooldown whose opener died before publishing its end, after a default pause', async () => {
    reset();
    const keeper = new CooldownKeeper(block, { rampStart: 8, openerTimeoutMs: 100, defaultPauseMs: 50 });
    try {
      const opened = Date.now();
      Atomics.store(block.i32, I32.GEN, 1); // the opener won the CAS and died
      Atomics.notify(block.i32, I32.GEN);
      await expect.poll(() => Atomics.load(block.i32, I32.GEN), { timeout: 5_000 }).toBe(2);
      expect(Date.now()).toBeGreaterThanOrEqual(opened + 150);
    } finally {
      await keeper.stop();
    }
  });

  it('makes an attempt that waited for a permit across a cooldown go out in the new generation', async () => {
    reset(1);
    const keeper = new CooldownKeeper(block, { rampStart: 1 });
    try {
      await actor(0).reply(send(0, { op: 'takePermit' }));
      const waiting = send(1, { op: 'enterGate' }); // no permit free: it waits
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(actor(1).has(waiting)).toBe(false);
      // Actor 0's request is rate limited: it releases its permit and opens a cooldown.
      await actor(0).reply(send(0, { op: 'report', sentInGen: 0, hintMs: 80 }));
      await actor(0).reply(send(0, { op: 'releasePermit' }));
      const passed = await actor(1).reply(waiting);
      expect(passed.value).toBe(2);
      expect(Atomics.load(block.i32, I32.IN_FLIGHT)).toBe(1);
      await actor(1).reply(send(1, { op: 'releasePermit' }));
      expect(Atomics.load(block.i32, I32.IN_FLIGHT)).toBe(0);
    } finally {
      await keeper.stop();
    }
  });

  it('wakes a thread waiting for a permit even when another thread left a wait behind (no lost wake-up)', async () => {
    reset(1);
    await actor(0).reply(send(0, { op: 'takePermit' })); // IN_FLIGHT 1 = LIMIT
    // Actor 1 waits and gives up (an item at its deadline): its wait stays queued on IN_FLIGHT.
    const gaveUp = await actor(1).reply(send(1, { op: 'takePermitFor', ms: 20 }));
    expect(gaveUp.value).toBe('gave up');
    const waiting = send(2, { op: 'takePermitFor', ms: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await actor(0).reply(send(0, { op: 'releasePermit' }));
    // The release must reach actor 2, not only actor 1's abandoned wait.
    expect((await actor(2).reply(waiting)).value).toBe('taken');
    await actor(2).reply(send(2, { op: 'releasePermit' }));
    expect(Atomics.load(block.i32, I32.IN_FLIGHT)).toBe(0);
  });
});
