// The worker side's events for observers and the trace, built only when somebody observes (the
// attempt loop checks `emit` first): what a 429 did to the shared cooldown, and what a success
// raised. Reading the control block here again is cheap, and it is off the hot path.

import { I32, type ControlBlock } from '../control/control-block.js';
import { cooldownEnd } from '../control/cooldown.js';
import type { BatchEvent, RateLimitReport } from '../model/events.js';
import type { ClassifiedFailure } from './classify.js';
import { rateLimitHint } from './rate-limit-hint.js';

export function rateLimitedEvent(
  block: ControlBlock,
  thread: number,
  customId: string,
  report: RateLimitReport,
  sentGen: number,
  failure: ClassifiedFailure,
  endBefore: number | null,
  globalGen: number,
): BatchEvent {
  const hint = failure.hintMs === null ? null : rateLimitHint(failure.headers ?? undefined, Date.now());
  return {
    type: 'rate-limited',
    custom_id: customId,
    report,
    hintMs: failure.hintMs,
    hintSource: hint?.source ?? 'default',
    thread,
    sentGen,
    gen: report === 'stale' ? Atomics.load(block.i32, I32.GEN) : sentGen + 1,
    endBefore,
    endAfter: report === 'stale' ? null : cooldownEnd(block, sentGen + 1),
    globalGen,
  };
}

/** The event for what recordSuccess raised (its return value, not 0). */
export function raisedEvent(block: ControlBlock, raised: number): BatchEvent {
  if (raised < 0) return { type: 'ceiling-changed', from: -raised - 1, to: -raised, why: 'successes' };
  return { type: 'limit-raised', limit: raised, ceiling: Atomics.load(block.i32, I32.CEILING) };
}
