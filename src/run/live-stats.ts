// A cheap, live view of a run for progress displays: read straight from the control block and
// the summary's running counts, without sorting anything or messaging the workers.

import { I32, I64, readCount, type ControlBlock } from '../control/control-block.js';
import { epochOf, unpackCooldown } from '../control/cooldown.js';
import { isOutage, outageSince } from '../control/outage.js';
import type { Usage } from '../model/usage.js';

export interface LiveStats {
  done: number;
  succeeded: number;
  failed: number;
  requests: number;
  rateLimited: number;
  cooldowns: number;
  /** Attempts on the wire now, the in-flight limit (the ramp) and its ceiling. */
  inFlight: number;
  limit: number;
  ceiling: number;
  /** Time left in the open cooldown in ms, or null when none is open. */
  coolingDownMs: number | null;
  /** Outage pauses opened so far (the endpoint down: connections failing, 502/503/504, timeouts). */
  outages: number;
  /** How long the endpoint has not answered, in ms, while an outage lasts (its pauses and probes); else null. */
  outageMs: number | null;
  /** Whether the open pause is an outage's, not a rate limit's cooldown. */
  outagePause: boolean;
  tokens: Usage;
  /** Cost so far, from the `prices` option; null without one. */
  cost: number | null;
}

export function readLive(block: ControlBlock, counts: { done: number; succeeded: number; tokens: Usage; cost: number | null }): LiveStats {
  const { i32, i64 } = block;
  const gen = Atomics.load(i32, I32.GEN);
  let coolingDownMs: number | null = null;
  const since = outageSince(block);
  if ((gen & 1) === 1) {
    const cooldown = unpackCooldown(Atomics.load(i64, I64.COOLDOWN));
    coolingDownMs = cooldown.gen === gen ? Math.max(0, epochOf(block) + cooldown.relMs - Date.now()) : 0;
  }
  return {
    done: counts.done,
    succeeded: counts.succeeded,
    failed: counts.done - counts.succeeded,
    requests: readCount(block, I64.REQUESTS),
    rateLimited: readCount(block, I64.RATE_LIMITED),
    cooldowns: Atomics.load(i32, I32.COOLDOWNS),
    inFlight: Atomics.load(i32, I32.IN_FLIGHT),
    limit: Atomics.load(i32, I32.LIMIT),
    ceiling: Atomics.load(i32, I32.CEILING),
    coolingDownMs,
    outages: Atomics.load(i32, I32.OUTAGES),
    outageMs: since === null ? null : Math.max(0, Date.now() - since),
    outagePause: (gen & 1) === 1 && isOutage(block, gen),
    tokens: { ...counts.tokens },
    cost: counts.cost,
  };
}
