// The main thread's mirror of the run-wide cooldown in Redis (scripts.ts) into this process's
// control block. It is the one writer of I32.GLOBAL_GEN.
//
// Nothing on the hot path waits for Redis:
//  - a 429 closes this process's gate at once, as on one machine (control/cooldown.ts); the
//    attempt's global generation rides on its `rate-limited` event and the mirror reports all the
//    429s of one event-loop turn to Redis in one script call;
//  - other processes' cooldowns arrive by pub/sub and close the gate here (holdGateUntil); since
//    pub/sub is at-most-once, the state also rides on every script reply and is polled every
//    second and on every reconnect;
//  - the cooldown is ended by Redis from its own clock, in whichever script runs first after its
//    end; a timer here calls one at the end so that `ended` is published promptly. The local
//    gate's end is the keeper's, from the Redis end converted to this machine's clock with the
//    offset seen in the reply (so processes agree to within their latency to Redis).

import type { Redis } from 'ioredis';
import { I32, I64, readCount, type ControlBlock } from '../control/control-block.js';
import { holdGateUntil } from '../control/cooldown.js';
import type { RunKeys } from './run-keys.js';
import type { GlobalCooldown, RunScripts } from './scripts.js';

const POLL_MS = 1000;

export interface MirrorEvents {
  /** A Redis reply or message said a cooldown is on (with its end in this machine's epoch ms). */
  onGlobalCooldown?: (gen: number, untilMs: number) => void;
  onError?: (error: unknown) => void;
}

export class CooldownMirror {
  readonly #block: ControlBlock;
  readonly #scripts: RunScripts;
  readonly #subscriber: Redis;
  readonly #keys: RunKeys;
  readonly #policy: { baseMs: number; maxMs: number };
  readonly #events: MirrorEvents;
  #gen = 0;
  #until = 0;
  #queued: { sentGen: number; hintMs: number | null }[] = [];
  #flushing = false;
  #poll: NodeJS.Timeout | undefined;
  #endTimer: NodeJS.Timeout | undefined;
  #requestsSeen = 0;
  #stopped = false;

  constructor(block: ControlBlock, scripts: RunScripts, subscriber: Redis, keys: RunKeys, policy: { baseMs: number; maxMs: number }, events: MirrorEvents = {}) {
    this.#block = block;
    this.#scripts = scripts;
    this.#subscriber = subscriber;
    this.#keys = keys;
    this.#policy = policy;
    this.#events = events;
  }

  async start(): Promise<void> {
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#keys.channel) return;
      const [kind, gen, until, now] = message.split(' ');
      if (kind === 'opened' || kind === 'extended' || kind === 'ended') this.apply({ gen: Number(gen), until: Number(until), now: Number(now) });
    });
    // ioredis re-subscribes after a reconnect; what was published meanwhile is lost, so poll.
    this.#subscriber.on('ready', () => this.#refresh());
    await this.#subscriber.subscribe(this.#keys.channel);
    await this.#refresh();
    this.#poll = setInterval(() => void this.#refresh(), POLL_MS);
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#poll);
    clearTimeout(this.#endTimer);
  }

  /** A local 429 sent in (even) global generation `sentGen`; reported with the rest of this turn's. */
  report(sentGen: number, hintMs: number | null): void {
    this.#queued.push({ sentGen, hintMs });
    if (this.#queued.length === 1 && !this.#flushing) setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#queued.length === 0 || this.#stopped) return;
    this.#flushing = true;
    const batch = this.#queued;
    this.#queued = [];
    try {
      this.apply(await this.#scripts.report(batch, this.#policy));
    } catch (error) {
      this.#events.onError?.(error);
    } finally {
      this.#flushing = false;
      if (this.#queued.length > 0) setImmediate(() => void this.#flush());
    }
  }

  async #refresh(): Promise<void> {
    if (this.#stopped) return;
    // A success here since the last look ends the cooldowns-in-a-row everywhere.
    const requests = readCount(this.#block, I64.REQUESTS);
    const succeeded = requests > this.#requestsSeen && Atomics.load(this.#block.i32, I32.STREAK) === 0;
    this.#requestsSeen = requests;
    try {
      this.apply(await this.#scripts.state(succeeded));
    } catch (error) {
      this.#events.onError?.(error);
    }
  }

  /** Takes in a state seen in Redis (a reply or a message); older states are ignored. */
  apply(state: GlobalCooldown, receivedAt = Date.now()): void {
    if (this.#stopped || state.gen < this.#gen || (state.gen === this.#gen && state.until <= this.#until)) return;
    this.#gen = state.gen;
    this.#until = state.until;
    Atomics.store(this.#block.i32, I32.GLOBAL_GEN, state.gen);
    if ((state.gen & 1) === 0) return;
    const localUntil = receivedAt + (state.until - state.now);
    const remaining = localUntil - Date.now();
    if (remaining <= 0) return;
    holdGateUntil(this.#block, localUntil);
    this.#events.onGlobalCooldown?.(state.gen, localUntil);
    clearTimeout(this.#endTimer);
    // Ask Redis just after the end: that call ends it there and publishes `ended` to everybody.
    this.#endTimer = setTimeout(() => void this.#refresh(), remaining + 1);
  }
}
