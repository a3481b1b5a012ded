// The pacer's token reservations before and after the prompt-count calibration has seen answers,
// an attempt that got leased credit while a cooldown held the gate, and the common case with
// nothing to wait for, answered at once.
import { describe, expect, it } from 'vitest';
import { Pacer } from '../../src/attempt/pacer.js';
import { estimateTokens, loadTokenizer } from '../../src/attempt/token-estimate.js';
import { createControlBlock } from '../../src/control/control-block.js';
import { startItemClock } from '../../src/control/interrupt.js';
import { LeaseCredit } from '../../src/control/lease-credit.js';
import { RateBudget } from '../../src/control/rate-budget.js';

/** The reservation, which these calls always make (no gate is closed). */
function made<T>(reservation: T | null): T {
  if (reservation === null) throw new Error('expected a reservation');
  return reservation;
}

const body = { model: 'sim', max_tokens: 10, messages: [{ role: 'user', content: 'a prompt of a few words to count' }] };

describe('the pacer', () => {
  it('answers at once, without a promise, when no budget holds the request back, and with one when its slot is ahead', async () => {
    const block = createControlBlock(8);
    const budget = new RateBudget(block, 1);
    const pacer = new Pacer(budget, new LeaseCredit(block), 256, false);
    const clock = startItemClock({ itemDeadlineMs: null, runDeadline: null }, () => () => {});
    const free = pacer.reserve(body, clock);
    if (free instanceof Promise) throw new Error('expected the reservation at once, got a promise');
    expect(made(free).tokens).toBe(0);
    // 600 a minute: the first request goes now, the next 100 ms later.
    budget.configure('requests', 600);
    const now = pacer.reserve(body, clock);
    if (now instanceof Promise) throw new Error('expected the first request of a budget at once, got a promise');
    const later = pacer.reserve(body, clock);
    expect(later).toBeInstanceOf(Promise);
    expect(made(await later).sendAt - made(now).sendAt).toBeGreaterThanOrEqual(90);
    clock.dispose();
  });

  it('reserves pessimistically until answers have calibrated the prompt count, then at the highest ratio seen', async () => {
    const block = createControlBlock(8);
    const budget = new RateBudget(block, 1);
    budget.configure('tokens', 6_000_000); // fast enough that nothing waits
    const pacer = new Pacer(budget, new LeaseCredit(block), 256, false);
    const clock = startItemClock({ itemDeadlineMs: null, runDeadline: null }, () => () => {});
    await loadTokenizer();
    const { prompt, answer } = estimateTokens(body, 256);
    // No answer yet: the estimate may be far below the server's count; assume the worst (4×).
    const first = made(await pacer.reserve(body, clock));
    expect(first.tokens).toBe(Math.ceil(prompt * 4) + answer);
    // The server counted 2× our prompt estimate: reserve at least that from now on.
    pacer.settle(first, { prompt: prompt * 2, completion: 5, total: prompt * 2 + 5, cached: 0, reasoning: 0 }, null);
    const second = made(await pacer.reserve(body, clock));
    expect(second.tokens).toBe(Math.ceil(prompt * 2) + answer);
    clock.dispose();
  });

  it('gives leased credit back and reserves no send time when the gate closed while it waited for the credit', async () => {
    const block = createControlBlock(8);
    const budget = new RateBudget(block, 1);
    budget.configure('requests', 600); // 100 ms per request
    const credit = new LeaseCredit(block);
    credit.enable();
    const pacer = new Pacer(budget, credit, 256, false);
    const clock = startItemClock({ itemDeadlineMs: null, runDeadline: null }, () => () => {});
    // The attempt waits for credit; the gate closes, then the credit comes.
    let open = true;
    const waiting = pacer.reserve(body, clock, 'chat', () => open);
    await new Promise((resolve) => setTimeout(resolve, 20));
    open = false;
    credit.add('requests', 1, 0);
    expect(await waiting).toBeNull();
    expect(credit.credit('requests')).toBe(1);
    // The local budget was not moved: the next attempt goes at once, not 100 ms later.
    const now = Date.now();
    const next = made(await pacer.reserve(body, clock));
    expect(next.sendAt).toBeLessThanOrEqual(now + 5);
    clock.dispose();
  });
});
