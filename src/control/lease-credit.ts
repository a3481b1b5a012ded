// Leased credit: how a distributed run's budgets reach this process's hot path. The run's RPM/TPM
// budgets are GCRA buckets in Redis; the main thread's leaser (distributed/budget-leaser.ts) takes
// ~100 ms slices of them and adds each slice's units here when the slice begins. An attempt takes
// its units from this credit — one compare-and-swap per bucket, no message, no Redis — before it
// reserves its send time in the local budget (rate-budget.ts), which still spaces the process's
// requests at the run's interval within its slices. Only when the credit is short does an attempt
// wait: it says so (CREDIT_SHORT, which the leaser waits on) and waits for CREDIT_ADDED.
//
// On one machine LEASED stays 0 and nothing here costs more than one load per attempt.
//
// Why credit expires: a slice is the run's budget for one stretch of time. Units left unused and
// spent much later would go out on top of other processes' current slices, above the limit. So
// a new slice keeps at most `carry` units of the old credit, and credit a process has not
// renewed lapses (`expire`): at most one slice's worth of a process's budget ever goes out late.

import { interruptible } from './interrupt.js';
import { waitForChange } from './atomic-wait.js';
import { I32, I64, type ControlBlock } from './control-block.js';
import type { Bucket } from './rate-budget.js';

const CREDIT: Record<Bucket, number> = { requests: I64.REQUESTS_CREDIT, tokens: I64.TOKENS_CREDIT };
const WANTED: Record<Bucket, number> = { requests: I64.REQUESTS_WANTED, tokens: I64.TOKENS_WANTED };

export class LeaseCredit {
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;

  constructor(block: ControlBlock) {
    this.#i32 = block.i32;
    this.#i64 = block.i64;
  }

  /** Whether attempts need leased credit (a distributed run). */
  get leased(): boolean {
    return Atomics.load(this.#i32, I32.LEASED) === 1;
  }

  /**
   * An attempt's side: takes `units` of each bucket (0 for a bucket without a limit), waiting for
   * the leaser while the credit is short. Resolves true once taken, or false (nothing taken) when
   * `gateOpen` says no: a cooldown closed the gate meanwhile. Rejects with `interrupt` (a
   * deadline, a stop); then nothing is taken either.
   *
   * Why give up at a closed gate: the attempt holds an in-flight permit while it waits here. Kept
   * waiting through a cooldown, the attempts short of credit held the permits the ramp after it
   * allows (its first few), and the process sent nothing for 100–330 ms after the end, until a
   * new slice happened to wake them (measured, 3 worker processes). The leaser wakes the takers
   * when it sees the gate close (wakeTakers), and they go back to the gate, letting go.
   */
  async take(units: Readonly<Record<Bucket, number>>, interrupt: Promise<never>, gateOpen: () => boolean = () => true): Promise<boolean> {
    if (!this.leased) return true;
    for (;;) {
      // Read the sequence before trying: credit added after the try changes it, so the wait
      // below returns at once instead of missing the wake-up.
      const seen = Atomics.load(this.#i32, I32.CREDIT_ADDED);
      if (!gateOpen()) return false;
      if (this.#tryTake('requests', units.requests)) {
        if (this.#tryTake('tokens', units.tokens)) return true;
        this.settle('requests', units.requests);
      }
      Atomics.add(this.#i32, I32.CREDIT_SHORT, 1);
      Atomics.notify(this.#i32, I32.CREDIT_SHORT);
      await interruptible(waitForChange(this.#i32, I32.CREDIT_ADDED, seen), interrupt);
    }
  }

  #tryTake(bucket: Bucket, units: number): boolean {
    if (units <= 0) return true;
    const slot = CREDIT[bucket];
    const cost = BigInt(Math.ceil(units));
    for (;;) {
      const credit = Atomics.load(this.#i64, slot);
      if (credit < cost) {
        this.#atLeast(WANTED[bucket], cost);
        return false;
      }
      if (Atomics.compareExchange(this.#i64, slot, credit, credit - cost) === credit) return true;
    }
  }

  /** Gives back `units` not used after all (a cancelled attempt, an estimate above the usage), or, negative, charges more. */
  settle(bucket: Bucket, units: number): void {
    if (!this.leased || units === 0) return;
    Atomics.add(this.#i64, CREDIT[bucket], BigInt(Math.round(units)));
  }

  /** Wakes every attempt waiting for credit, to look again (at the credit, and at the gate). */
  wakeTakers(): void {
    Atomics.add(this.#i32, I32.CREDIT_ADDED, 1);
    Atomics.notify(this.#i32, I32.CREDIT_ADDED);
  }

  // The leaser's side (the main thread).

  /** Turns leasing on for the run; from now on attempts wait for credit in every limited bucket. */
  enable(): void {
    Atomics.store(this.#i32, I32.LEASED, 1);
  }

  /** Credit now (may be negative: usage charged beyond the estimates). */
  credit(bucket: Bucket): number {
    return Number(Atomics.load(this.#i64, CREDIT[bucket]));
  }

  /** The largest take that found the credit short since the last `clearWanted` (0 = none). */
  wanted(bucket: Bucket): number {
    return Number(Atomics.load(this.#i64, WANTED[bucket]));
  }

  /**
   * The leaser has asked for a slice: forget the shortfall. (A take that was short meanwhile and
   * is lost here is not stranded: the slice's credit wakes it, and it reports again if still short.)
   */
  clearWanted(bucket: Bucket): void {
    Atomics.store(this.#i64, WANTED[bucket], 0n);
  }

  /**
   * A slice begins: its `units`, on top of at most `carry` units of what is left, and wakes
   * waiting attempts. Returns the units of the old credit dropped above `carry` (lapsed unspent).
   */
  add(bucket: Bucket, units: number, carry: number): number {
    const slot = CREDIT[bucket];
    const cap = BigInt(Math.floor(carry));
    const gain = BigInt(Math.ceil(units));
    let dropped = 0n;
    for (;;) {
      const credit = Atomics.load(this.#i64, slot);
      const next = (credit < cap ? credit : cap) + gain;
      if (Atomics.compareExchange(this.#i64, slot, credit, next) === credit) {
        dropped = credit > cap ? credit - cap : 0n;
        break;
      }
    }
    this.wakeTakers();
    return Number(dropped);
  }

  /** The last slice is over and no new one came: what is left lapses (a debt stays). Returns the units lapsed. */
  expire(bucket: Bucket): number {
    const slot = CREDIT[bucket];
    for (;;) {
      const credit = Atomics.load(this.#i64, slot);
      if (credit <= 0n) return 0;
      if (Atomics.compareExchange(this.#i64, slot, credit, 0n) === credit) return Number(credit);
    }
  }

  /** Short reports so far (the leaser waits for this to change). */
  shortCount(): number {
    return Atomics.load(this.#i32, I32.CREDIT_SHORT);
  }

  /** Resolves once an attempt reports its credit short after `seen` (or at once if one has). */
  whenShort(seen: number): Promise<unknown> | undefined {
    return waitForChange(this.#i32, I32.CREDIT_SHORT, seen);
  }

  /** Wakes the leaser's wait (it is stopping). */
  wakeLeaser(): void {
    Atomics.add(this.#i32, I32.CREDIT_SHORT, 1);
    Atomics.notify(this.#i32, I32.CREDIT_SHORT);
  }

  #atLeast(slot: number, value: bigint): void {
    for (;;) {
      const current = Atomics.load(this.#i64, slot);
      if (current >= value || Atomics.compareExchange(this.#i64, slot, current, value) === current) return;
    }
  }
}
