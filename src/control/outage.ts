// The outage pause: what the control block does when the endpoint is down rather than busy. A
// refused or reset connection, a 502/503/504 or an attempt that timed out is an *outage signal*.
// A few of them in a row (OUTAGE_THRESHOLD, across all threads, with no answer in between) open a
// pause through the same gate and generation counter as a 429's cooldown (cooldown.ts) — the
// opener's compare-and-swap, the packed end, the stale rule and the one closer all hold as they
// are — marked as an outage in OUTAGE_GEN. The keeper ends it with room for one attempt only (the
// probe, a real item's request); if the probe fails, its signal opens the next pause at once (the
// count was never reset), else the endpoint answered and the usual ramp grows from there.
//
// Failures that belong to an outage do not use up an item's maxAttempts: the item simply goes
// back to the gate. What bounds an outage is time: the keeper stops the run (resumably) once the
// endpoint has not answered for the outage patience (cooldown-keeper.ts).

import { I32, I64, type ControlBlock } from './control-block.js';
import { cooldownEnd, epochOf, extendCooldown } from './cooldown.js';

/** Outage signals in a row (no answer in between) that open an outage pause. */
export const OUTAGE_THRESHOLD = 3;

/** The longest pause between two probes, in ms (unless the server's Retry-After asks for more). */
export const MAX_PROBE_INTERVAL_MS = 30_000;

/** OUTAGE_CAUSE values other than an HTTP status. */
export const OUTAGE_CAUSE = { connection: 1, timeout: 2 } as const;

/** What one outage signal did. */
export type OutageReport =
  /** No outage (yet): the failure counts toward the item's maxAttempts, as any transient one. */
  | 'counted'
  /** This failure opened the outage pause. */
  | 'opened'
  /** An outage pause of the same epoch was open: joined it (or made it longer, by a Retry-After). */
  | 'joined'
  | 'extended'
  /** Sent before an outage pause that has ended since: part of that outage, nothing to open. */
  | 'stale';

/**
 * The pause before the next probe: the base interval at first, then half the time the endpoint
 * has been gone so far (so probes thin out as an outage drags on), capped.
 */
export function probeIntervalMs(block: ControlBlock, baseMs: number, nowMs: number): number {
  const since = Atomics.load(block.i64, I64.OUTAGE_SINCE);
  const downMs = since === 0n ? 0 : nowMs - (epochOf(block) + Number(since) - 1);
  return Math.min(Math.max(baseMs, MAX_PROBE_INTERVAL_MS), Math.max(baseMs, downMs / 2));
}

/**
 * Tell the control block that an attempt sent in generation `sentInGen` met an outage signal.
 * `cause` is an HTTP status or an OUTAGE_CAUSE value; `hintMs` a 503's Retry-After (null for none);
 * `probeMs` the first pause between probes. Never blocks.
 */
export function reportOutage(block: ControlBlock, sentInGen: number, cause: number, hintMs: number | null, probeMs: number, nowMs: number): OutageReport {
  const { i32, i64 } = block;
  let gen = Atomics.load(i32, I32.GEN);
  if (gen === sentInGen) {
    Atomics.store(i32, I32.OUTAGE_CAUSE, cause);
    if (Atomics.add(i32, I32.OUTAGE_FAILS, 1) + 1 < OUTAGE_THRESHOLD) return 'counted';
    if (Atomics.compareExchange(i32, I32.GEN, sentInGen, sentInGen + 1) === sentInGen) {
      // The reason first, then the end: the keeper reads the reason once the end is published.
      Atomics.store(i32, I32.OUTAGE_GEN, sentInGen + 1);
      const epoch = epochOf(block);
      // The episode's start, unless an earlier pause of this outage set it (the probe failed).
      Atomics.compareExchange(i64, I64.OUTAGE_SINCE, 0n, BigInt(Math.max(0, Math.round(nowMs - epoch))) + 1n);
      const pauseMs = hintMs ?? probeIntervalMs(block, probeMs, nowMs);
      extendCooldown(block, sentInGen + 1, nowMs + pauseMs - epoch, true);
      Atomics.add(i32, I32.OUTAGES, 1);
      // Wake the main thread's keeper, which waits on GEN while it is even.
      Atomics.notify(i32, I32.GEN);
      return 'opened';
    }
    gen = Atomics.load(i32, I32.GEN);
  }
  const outageGen = Atomics.load(i32, I32.OUTAGE_GEN);
  if (gen === sentInGen + 1) {
    // A pause of our own epoch is open. A rate limit's cooldown spares no attempts, only an
    // outage's. Its opener marks an outage before it publishes the end, so a published end
    // without the mark is a rate limit's; before that the reason is not known yet, and the
    // failure is taken as part of the outage it most likely is (at worst one attempt uncharged).
    if (outageGen !== gen && cooldownEnd(block, gen) !== null) return 'counted';
    const grew = hintMs !== null && extendCooldown(block, gen, nowMs + hintMs - epochOf(block), false);
    return grew ? 'extended' : 'joined';
  }
  // GEN only increases: past sentInGen + 1, a pause opened and ended since the request left.
  return outageGen > sentInGen ? 'stale' : 'counted';
}

/**
 * The endpoint answered (anything but an outage signal) a request sent in `sentInGen`: the
 * signals in a row start again from 0, and an outage in progress is over. An answer to a request
 * sent before the last pause says nothing about now and is left alone. Load first: nearly every
 * answer finds both at 0, and a store would bounce the cache line.
 */
export function endpointAnswered(block: ControlBlock, sentInGen: number): void {
  const { i32, i64 } = block;
  if (Atomics.load(i32, I32.OUTAGE_FAILS) === 0 && Atomics.load(i64, I64.OUTAGE_SINCE) === 0n) return;
  if (Atomics.load(i32, I32.GEN) !== sentInGen) return;
  Atomics.store(i32, I32.OUTAGE_FAILS, 0);
  Atomics.store(i64, I64.OUTAGE_SINCE, 0n);
}

/** Whether cooldown `gen` (odd) is an outage pause rather than a rate limit's cooldown. */
export function isOutage(block: ControlBlock, gen: number): boolean {
  return Atomics.load(block.i32, I32.OUTAGE_GEN) === gen;
}

/** When the outage in progress began (epoch ms), or null when the endpoint answers. */
export function outageSince(block: ControlBlock): number | null {
  const since = Atomics.load(block.i64, I64.OUTAGE_SINCE);
  return since === 0n ? null : epochOf(block) + Number(since) - 1;
}

/** The last outage signal in words, for messages: "503 answers", "failed connections", "timed-out attempts". */
export function outageCauseText(block: ControlBlock): string {
  const cause = Atomics.load(block.i32, I32.OUTAGE_CAUSE);
  if (cause === OUTAGE_CAUSE.connection) return 'connections failed (refused, reset or cut off)';
  if (cause === OUTAGE_CAUSE.timeout) return 'attempts timed out';
  return `it answered ${cause}`;
}
