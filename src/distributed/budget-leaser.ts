// The main thread's leaser: it keeps this process supplied with slices of the run's RPM/TPM
// budgets in Redis (the `lease` script) and adds each slice's units to the control block's
// leased credit (control/lease-credit.ts) when the slice begins. Attempts take from that credit
// without any message; none waits for Redis unless the process has used up what it holds.
//
// The shape of it, per bucket:
//  - a slice is ~SLICE_MS of the run's budget at its interval; the next one is asked for once the
//    credit is down to half a slice (prefetch), so a busy process's next slice is there before it
//    runs dry, and at most one slice whose start has not come is held at a time;
//  - the slices of all processes come from one GCRA bucket in Redis, so they never overlap and
//    together never exceed the limit; a process that asks for nothing holds nothing (the bucket
//    starts the next slice at "now" for whoever asks), so an idle or dead process frees its share
//    at once — all it can take with it is its current and prefetched slice (≤ 2 × SLICE_MS);
//  - a slice's credit lapses a slice after the slice ends unless a newer one came or is on its
//    way (see lease-credit.ts: credit spent late would go out on top of other processes' slices;
//    a new slice keeps at most half a slice of it). The slices of N busy processes come in turns,
//    so a process's next one may begin (N − 1) slices after its last: lapsing its credit then
//    (before this rule, 15 % of what 3 workers leased at 500 items/s) lost budget nobody else had;
//  - a cold process (no credit since its last slice lapsed: its start, or after a cooldown) asks
//    for an eighth of a slice first: the turns of N processes resuming at once then start
//    (N − 1) eighths apart, not (N − 1) slices (measured: 100–300 ms between the first and the
//    last of 3 processes to send after a cooldown);
//  - a cold process whose gate is closed by a cooldown asks for its short slice RESUME_LEAD_MS
//    before the cooldown ends, so that it holds credit when the gate opens. Asked for only once
//    its first attempt ran short, the slices of N processes resuming at once went to whoever
//    asked first, and that one's next full slice (prefetched the moment it spent its first
//    unit) came before the others' short ones: measured 8, 122 and 136 ms from the end to each
//    of 3 processes' first request. Asked before the end, the short slices all begin before it
//    (they are spent after it, when nothing was sent for the whole cooldown);
//  - intervals only tighten: the lease carries this process's interval (perhaps learned from a
//    server's headers), the script keeps the larger, and a larger one in the reply slows the
//    local budget (learned anywhere, obeyed everywhere);
//  - both buckets go in one script call, and the reply's cooldown state feeds the mirror.

import { I32, type ControlBlock } from '../control/control-block.js';
import { cooldownEnd } from '../control/cooldown.js';
import { LeaseCredit } from '../control/lease-credit.js';
import { RateBudget, type Bucket } from '../control/rate-budget.js';
import type { CooldownMirror } from './cooldown-mirror.js';
import type { LeaseAsk, RunScripts, Slice } from './scripts.js';

/** Length of one slice of a budget, in ms of the run's rate. */
export const SLICE_MS = 100;
/** A cold process's first slice is this fraction of one. */
const COLD_SLICE = 1 / 8;
/**
 * How long before a cooldown's end a cold process asks for its first slice: room for the short
 * slices of several processes (an eighth of SLICE_MS each) to begin before the end.
 */
const RESUME_LEAD_MS = SLICE_MS / 2;
/** How often the credit is looked at for a prefetch (an attempt that runs short wakes us at once). */
const TICK_MS = 10;
const BUCKETS: readonly Bucket[] = ['requests', 'tokens'];

interface BucketState {
  /** A slice has been leased and its start has not come: no other is asked for meanwhile. */
  pending: boolean;
  /** The credit right after the last slice was added (consumption is measured against it). */
  afterAdd: number;
  /** No slice since the start or since the last one lapsed: the next one is short (COLD_SLICE). */
  cold: boolean;
  startTimer: NodeJS.Timeout | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
}

export class BudgetLeaser {
  readonly #block: ControlBlock;
  readonly #credit: LeaseCredit;
  readonly #budget: RateBudget;
  readonly #scripts: RunScripts;
  readonly #mirror: CooldownMirror;
  readonly #onError: (error: unknown) => void;
  readonly #state: Record<Bucket, BucketState> = {
    requests: { pending: false, afterAdd: 0, cold: true, startTimer: undefined, expiryTimer: undefined },
    tokens: { pending: false, afterAdd: 0, cold: true, startTimer: undefined, expiryTimer: undefined },
  };
  #inFlight = false;
  /** The gate's generation at the last tick. */
  #gateGen = 0;
  #stopped = false;
  #tick: NodeJS.Timeout | undefined;
  /** Slices leased, for tests and figures. */
  leases = 0;
  /** Units leased per bucket, and those that lapsed unspent (dropped at a new slice, or expired: no new slice came), for figures. */
  readonly units: Record<Bucket, { leased: number; lapsed: number; expired: number }> = { requests: { leased: 0, lapsed: 0, expired: 0 }, tokens: { leased: 0, lapsed: 0, expired: 0 } };

  constructor(block: ControlBlock, scripts: RunScripts, mirror: CooldownMirror, onError: (error: unknown) => void) {
    this.#block = block;
    this.#credit = new LeaseCredit(block);
    // Only the intervals are read and tightened here; the headroom is not used.
    this.#budget = new RateBudget(block, 1);
    this.#scripts = scripts;
    this.#mirror = mirror;
    this.#onError = onError;
  }

  /** Turns leasing on; call before the first attempt. */
  start(): void {
    this.#credit.enable();
    this.#tick = setInterval(() => {
      this.#watchGate();
      this.#lookAtCredit();
    }, TICK_MS);
    void this.#watchShortfalls();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#tick);
    for (const bucket of BUCKETS) {
      clearTimeout(this.#state[bucket].startTimer);
      clearTimeout(this.#state[bucket].expiryTimer);
    }
    this.#credit.wakeLeaser();
  }

  async #watchShortfalls(): Promise<void> {
    while (!this.#stopped) {
      const seen = this.#credit.shortCount();
      this.#lookAtCredit();
      await this.#credit.whenShort(seen);
    }
  }

  /** Units of one slice of the bucket at its interval now (at least one). */
  #sliceUnits(bucket: Bucket): number {
    const interval = this.#budget.interval(bucket);
    return interval === 0n ? 0 : Math.max(1, Math.ceil((SLICE_MS * 1e6) / Number(interval)));
  }

  /** Units to ask for: a slice, or a cold process's short one. */
  #askUnits(bucket: Bucket): number {
    const slice = this.#sliceUnits(bucket);
    return this.#state[bucket].cold ? Math.max(1, Math.ceil(slice * COLD_SLICE)) : slice;
  }

  /**
   * When the gate closes, the attempts waiting for credit are woken to see it, and go back to it
   * with their permits (see LeaseCredit.take). Nobody else wakes them: no credit comes for them
   * until the cooldown is nearly over.
   */
  #watchGate(): void {
    const gen = Atomics.load(this.#block.i32, I32.GEN);
    if (gen === this.#gateGen) return;
    this.#gateGen = gen;
    if ((gen & 1) === 1) this.#credit.wakeTakers();
  }

  /** Whether this process's gate is closed by a cooldown, and if so whether it ends within RESUME_LEAD_MS. */
  #cooling(): { closed: boolean; endingSoon: boolean } {
    const gen = Atomics.load(this.#block.i32, I32.GEN);
    if ((gen & 1) === 0) return { closed: false, endingSoon: false };
    const end = cooldownEnd(this.#block, gen);
    return { closed: true, endingSoon: end !== null && end - Date.now() <= RESUME_LEAD_MS };
  }

  /** What to ask of a bucket now: 0 when it has no limit, a slice on the way, or enough credit. */
  #ask(bucket: Bucket, cooling: { closed: boolean; endingSoon: boolean }): number {
    const slice = this.#sliceUnits(bucket);
    const state = this.#state[bucket];
    if (slice === 0 || state.pending) return 0;
    const credit = this.#credit.credit(bucket);
    // Nothing is sent while the gate is closed: attempts short of credit then are going back to
    // the gate anyway. A whole slice leased now would only put this process's turn before the
    // short slices of the others resuming with it.
    if (cooling.closed) return cooling.endingSoon && state.cold && credit <= 0 ? this.#askUnits(bucket) : 0;
    const wanted = this.#credit.wanted(bucket);
    const used = credit < state.afterAdd;
    if (wanted > credit || (used && credit <= slice / 2)) return Math.max(this.#askUnits(bucket), wanted);
    return 0;
  }

  #lookAtCredit(): void {
    if (this.#inFlight || this.#stopped) return;
    const cooling = this.#cooling();
    const units = { requests: this.#ask('requests', cooling), tokens: this.#ask('tokens', cooling) };
    if (units.requests === 0 && units.tokens === 0) return;
    // A bucket that is only low gets its slice in the same call as the one that ran short.
    for (const bucket of BUCKETS) {
      if (units[bucket] === 0 && !cooling.closed && !this.#state[bucket].pending && this.#credit.credit(bucket) <= this.#sliceUnits(bucket) / 2) units[bucket] = this.#askUnits(bucket);
    }
    this.#inFlight = true;
    const ask = (bucket: Bucket): LeaseAsk => ({ units: units[bucket], intervalNs: this.#budget.interval(bucket) });
    for (const bucket of BUCKETS) if (units[bucket] > 0) this.#credit.clearWanted(bucket);
    const asks = { requests: ask('requests'), tokens: ask('tokens') };
    const sentAt = Date.now();
    this.#scripts.lease(asks).then(
      (lease) => {
        this.#inFlight = false;
        if (this.#stopped) return;
        this.leases += 1;
        // Half the round trip has passed since Redis read its clock, roughly.
        const receivedAt = Date.now();
        const redisNowLocal = (sentAt + receivedAt) / 2;
        this.#mirror.apply(lease, redisNowLocal);
        for (const bucket of BUCKETS) this.#take(bucket, lease[bucket], redisNowLocal);
        this.#lookAtCredit();
      },
      (error: unknown) => {
        this.#inFlight = false;
        this.#onError(error);
      },
    );
  }

  /** A bucket's slice arrived: learn its interval, and add its units when it begins. */
  #take(bucket: Bucket, slice: Slice, redisNowLocal: number): void {
    if (slice.intervalNs > 0) this.#budget.slowToInterval(bucket, BigInt(slice.intervalNs));
    if (slice.startOffsetUs === null) return;
    const state = this.#state[bucket];
    state.pending = true;
    const begin = (): void => {
      state.pending = false;
      state.cold = false;
      this.units[bucket].leased += slice.units;
      this.units[bucket].lapsed += this.#credit.add(bucket, slice.units, this.#sliceUnits(bucket) / 2);
      state.afterAdd = this.#credit.credit(bucket);
      clearTimeout(state.expiryTimer);
      state.expiryTimer = setTimeout(() => {
        // A newer slice is on its way (this process's next turn): its start caps the carry.
        if (state.pending) return;
        const expired = this.#credit.expire(bucket);
        state.cold = true;
        this.units[bucket].lapsed += expired;
        this.units[bucket].expired += expired;
        state.afterAdd = this.#credit.credit(bucket);
      }, (slice.units * slice.intervalNs) / 1e6 + SLICE_MS);
      this.#lookAtCredit();
    };
    const delay = redisNowLocal + slice.startOffsetUs / 1000 - Date.now();
    if (delay < 1) begin();
    else state.startTimer = setTimeout(begin, delay);
  }
}
