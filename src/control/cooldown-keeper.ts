// The main thread's half of the cooldown protocol: it is the only code that ends a cooldown.
// It waits for GEN to turn odd, waits for that cooldown's end time to be published, sleeps on a
// timer until then (re-reading the end, which attempts may have extended), and then lowers the
// in-flight limit to the ramp's start and opens the gate (GEN odd -> even) for everybody at once.
// Because the end comes from a timer here, no worker's fate can leave the gate closed.

import { waitForChange, waitForChange64 } from './atomic-wait.js';
import { I32, I64, type ControlBlock } from './control-block.js';
import { epochOf, unpackCooldown } from './cooldown.js';
import { ceilingAfterCooldown } from './permits.js';
import { MAX_TIMER_MS } from './long-timer.js';
import type { BatchEvent } from '../model/events.js';

export interface CooldownKeeperOptions {
  /** In-flight limit right after a cooldown. */
  rampStart: number;
  onEvent?: (event: BatchEvent) => void;
}

export class CooldownKeeper {
  readonly #block: ControlBlock;
  readonly #options: CooldownKeeperOptions;
  readonly #epoch: number;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wakeTimer: (() => void) | undefined;
  readonly #done: Promise<void>;

  constructor(block: ControlBlock, options: CooldownKeeperOptions) {
    this.#block = block;
    this.#options = options;
    this.#epoch = epochOf(block);
    this.#done = this.#run();
  }

  /** Stops watching. An open cooldown is left as it is (the run is over). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wakeTimer?.();
    // Wake our own waits; workers woken with them find nothing changed and wait again.
    Atomics.notify(this.#block.i32, I32.GEN);
    Atomics.notify(this.#block.i64, I64.COOLDOWN);
    await this.#done;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeTimer = resolve;
      // Capped: a longer timer would fire at once (long-timer.ts); the loop looks again anyway.
      this.#timer = setTimeout(resolve, Math.min(ms, MAX_TIMER_MS));
    });
  }

  async #run(): Promise<void> {
    const { i32, i64 } = this.#block;
    let announced = -1;
    let openedAt = 0;
    while (!this.#stopped) {
      const gen = Atomics.load(i32, I32.GEN);
      if ((gen & 1) === 0) {
        await waitForChange(i32, I32.GEN, gen); // the opener notifies GEN
        continue;
      }
      // Cooldown `gen` is open. Its opener publishes its end time right after the CAS that
      // opened it; until then the word still belongs to an older generation, so wait for it.
      const word = Atomics.load(i64, I64.COOLDOWN);
      const { gen: wordGen, relMs } = unpackCooldown(word);
      if (wordGen !== gen) {
        await waitForChange64(i64, I64.COOLDOWN, word);
        continue;
      }
      const until = this.#epoch + relMs;
      if (announced !== gen) {
        announced = gen;
        openedAt = Date.now();
        this.#options.onEvent?.({ type: 'cooldown-opened', gen, at: openedAt, until });
      }
      const remaining = until - Date.now();
      if (remaining > 0) {
        await this.#sleep(remaining); // then look again: the end may have been extended
        continue;
      }
      // End it. LIMIT first, then GEN: a worker that sees the open generation also sees the
      // lowered limit, so only `rampStart` attempts go out at once.
      const ceiling = ceilingAfterCooldown(this.#block);
      if (ceiling.to !== ceiling.from) this.#options.onEvent?.({ type: 'ceiling-changed', from: ceiling.from, to: ceiling.to });
      const limit = Math.min(this.#options.rampStart, ceiling.to);
      const at = performance.timeOrigin + performance.now(); // taken before the gate opens
      const waiting = Atomics.load(i32, I32.WAITING);
      Atomics.store(i32, I32.LIMIT, limit);
      Atomics.store(i32, I32.GEN, gen + 1);
      Atomics.notify(i32, I32.GEN);
      this.#options.onEvent?.({ type: 'cooldown-ended', gen, at, limit, by: 'keeper', durationMs: at - openedAt, waiting });
    }
  }
}
