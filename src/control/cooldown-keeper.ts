// The main thread's half of the cooldown protocol: the code that ends cooldowns. It waits for GEN
// to turn odd, waits for the opener to publish that cooldown's end time (publishing a default one
// itself if the opener died first), sleeps on a timer until then (re-reading the end, which
// attempts may have extended), and then ends it (cooldown.ts, endCooldown): the in-flight limit
// drops to the ramp's start and the gate opens for everybody at once. Because the end comes from
// a timer here, no worker's fate can leave the gate closed; and because a waiting worker ends a
// cooldown this thread is late for (blocked by its consumer), this thread's fate cannot stretch one.
//
// An outage pause (outage.ts) is ended the same way, with one more rule: once the endpoint has not
// answered for the outage patience, the keeper does not end the pause but tells the run to stop
// (`onOutagePatienceOut`), which stops resumably instead of failing every item.

import { waitForChange, waitForChange64 } from './atomic-wait.js';
import { I32, I64, type ControlBlock } from './control-block.js';
import { endCooldown, epochOf, extendCooldown, unpackCooldown } from './cooldown.js';
import { MAX_TIMER_MS } from './long-timer.js';
import { isOutage, outageCauseText, outageSince } from './outage.js';
import type { BatchEvent } from '../model/events.js';
import { formatDuration } from '../model/duration.js';

export interface CooldownKeeperOptions {
  /** In-flight limit right after a cooldown (stored in the block: workers that end one use it too). */
  rampStart: number;
  /** How long the opener may take to publish its cooldown's end before the keeper publishes one, in ms. @default 1000 */
  openerTimeoutMs?: number;
  /** The pause the keeper publishes in a silent opener's place, in ms. @default 1000 */
  defaultPauseMs?: number;
  /** How long the endpoint may stay unanswering (an outage) before the run stops, in ms. @default Infinity */
  outagePatienceMs?: number;
  /** Told once, with what it waited for, when the outage patience is used up: stop the run here. */
  onOutagePatienceOut?: (reason: string) => void;
  onEvent?: (event: BatchEvent) => void;
}

export class CooldownKeeper {
  readonly #block: ControlBlock;
  readonly #options: Required<Omit<CooldownKeeperOptions, 'onEvent' | 'onOutagePatienceOut'>> & Pick<CooldownKeeperOptions, 'onEvent' | 'onOutagePatienceOut'>;
  readonly #epoch: number;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wakeTimer: (() => void) | undefined;
  readonly #done: Promise<void>;

  constructor(block: ControlBlock, options: CooldownKeeperOptions) {
    this.#block = block;
    this.#options = { openerTimeoutMs: 1_000, defaultPauseMs: 1_000, outagePatienceMs: Infinity, ...options };
    this.#epoch = epochOf(block);
    Atomics.store(block.i32, I32.RAMP_START, options.rampStart);
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
    // One timer at a time: a sleep that lost a race is ended here, not left to hold the process.
    this.#wakeTimer?.();
    clearTimeout(this.#timer);
    return new Promise((resolve) => {
      this.#wakeTimer = resolve;
      // Capped: a longer timer would fire at once (long-timer.ts); the loop looks again anyway.
      this.#timer = setTimeout(resolve, Math.min(ms, MAX_TIMER_MS));
    });
  }

  async #run(): Promise<void> {
    const { i32, i64 } = this.#block;
    const { onEvent, openerTimeoutMs, defaultPauseMs, outagePatienceMs, onOutagePatienceOut } = this.#options;
    let announced = -1;
    let openedAt = 0;
    let ended = -1;
    /** Since when (epoch ms) the keeper has waited for cooldown `gen`'s opener to publish its end. */
    let unpublished = { gen: -1, since: 0 };
    /** The outage pause the keeper gave up on (patience used up): it is left closed. */
    let abandoned = -1;
    while (!this.#stopped) {
      const gen = Atomics.load(i32, I32.GEN);
      // A cooldown announced as open that a worker ended (this thread was late): say it ended.
      if (announced > ended && gen > announced) {
        ended = announced;
        const at = Date.now();
        const reason = isOutage(this.#block, announced) ? 'outage' : 'rate_limit';
        onEvent?.({ type: 'cooldown-ended', gen: announced, at, limit: Atomics.load(i32, I32.LIMIT), by: 'worker', durationMs: at - openedAt, waiting: 0, reason });
      }
      if ((gen & 1) === 0) {
        await waitForChange(i32, I32.GEN, gen); // the opener notifies GEN
        continue;
      }
      // Cooldown `gen` is open. Its opener publishes its end time right after the CAS that
      // opened it; until then the word belongs to an older generation, or holds only a joiner's
      // hint. Should the opener die in between, publish a default end in its place.
      const word = Atomics.load(i64, I64.COOLDOWN);
      const { gen: wordGen, relMs, byOpener } = unpackCooldown(word);
      if (wordGen !== gen || !byOpener) {
        if (unpublished.gen !== gen) unpublished = { gen, since: Date.now() };
        const waited = Date.now() - unpublished.since;
        if (waited >= openerTimeoutMs) {
          extendCooldown(this.#block, gen, Date.now() + defaultPauseMs - this.#epoch);
          continue;
        }
        const changed = waitForChange64(i64, I64.COOLDOWN, word);
        if (changed !== undefined) await Promise.race([changed, this.#sleep(openerTimeoutMs - waited)]);
        continue;
      }
      const until = this.#epoch + relMs;
      const outage = isOutage(this.#block, gen);
      const reason = outage ? 'outage' : 'rate_limit';
      if (announced !== gen) {
        announced = gen;
        openedAt = Date.now();
        onEvent?.({ type: 'cooldown-opened', gen, at: openedAt, until, reason });
      }
      if (abandoned === gen) {
        await this.#sleep(MAX_TIMER_MS); // until stop(): the run is stopping
        continue;
      }
      // An outage ends at its probe time or at the end of the patience, whichever comes first.
      const since = outage ? outageSince(this.#block) : null;
      const giveUpAt = since === null ? Infinity : since + outagePatienceMs;
      if (Date.now() >= giveUpAt) {
        abandoned = gen;
        onOutagePatienceOut?.(
          `the endpoint has not answered for ${formatDuration(Date.now() - (since ?? 0))}: ${outageCauseText(this.#block)}; ` +
            `the outage patience of ${formatDuration(outagePatienceMs)} is used up`,
        );
        // Keep the gate closed for good: no waiting worker may end this pause once its grace is over.
        extendCooldown(this.#block, gen, Number.MAX_SAFE_INTEGER);
        continue;
      }
      const remaining = Math.min(until, giveUpAt) - Date.now();
      if (remaining > 0) {
        await this.#sleep(remaining); // then look again: the end may have been extended
        continue;
      }
      // Taken before the gate opens, on the clock the cooldown's end is on (Date.now): a monotonic
      // reading drifts from it (~20 ppm on a VM), and `at` must never come before `until`.
      const at = Date.now();
      const closed = endCooldown(this.#block, gen);
      if (closed === null) continue; // a worker ended it first (reported at the top of the loop)
      ended = gen;
      const { limit, ceiling, waiting } = closed;
      if (ceiling.to !== ceiling.from) onEvent?.({ type: 'ceiling-changed', from: ceiling.from, to: ceiling.to, why: 'cooldowns' });
      onEvent?.({ type: 'cooldown-ended', gen, at, limit, by: 'keeper', durationMs: at - openedAt, waiting, reason });
    }
  }
}
