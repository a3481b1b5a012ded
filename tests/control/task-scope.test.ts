// An item's scope for task code: a cancel of the run or the item's deadline ends it, and the
// signal the task code gets aborts with the same reason — whether the code asked for the signal
// before the end or after it (the signal is made only when asked for).
import { describe, expect, it } from 'vitest';
import { startItemClock, taskScope } from '../../src/control/interrupt.js';
import { cancellationOf } from '../helpers/cancellation.js';
import { ItemFailed } from '../../src/model/errors.js';

const noStop = () => () => {};

describe('the task scope', () => {
  it('ends on a cancel, and the signal asked for before it aborts with the reason', async () => {
    const cancel = new AbortController();
    const clock = startItemClock({ itemDeadlineMs: null, runDeadline: null }, noStop);
    const scope = taskScope(clock, cancellationOf(cancel.signal));
    const signal = scope.signal;
    expect(signal.aborted).toBe(false);
    cancel.abort();
    await expect(scope.ended).rejects.toMatchObject({ category: 'aborted', message: 'the run was stopped' });
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(ItemFailed);
    scope.dispose();
    clock.dispose();
  });

  it('ends at the item deadline, and a signal asked for only afterwards is already aborted', async () => {
    const clock = startItemClock({ itemDeadlineMs: 30, runDeadline: null }, noStop);
    const scope = taskScope(clock, cancellationOf(new AbortController().signal));
    await expect(scope.ended).rejects.toMatchObject({ category: 'timeout' });
    expect(scope.signal.aborted).toBe(true);
    expect(scope.signal.reason).toMatchObject({ category: 'timeout' });
    scope.dispose();
    clock.dispose();
  });

  it('hands out an aborted signal when its deadline passed before anything was asked of it', async () => {
    const clock = startItemClock({ itemDeadlineMs: 20, runDeadline: null }, noStop);
    const scope = taskScope(clock, cancellationOf(new AbortController().signal));
    // As a long synchronous stage would: nothing watches the scope while the deadline passes.
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(scope.signal.aborted).toBe(true);
    expect(scope.signal.reason).toMatchObject({ category: 'timeout' });
    await expect(scope.ended).rejects.toMatchObject({ category: 'timeout' });
    scope.dispose();
    clock.dispose();
  });

  it('adds no cancel listener for a signal first read after the item ended', () => {
    const listeners = new Set<() => void>();
    const cancellation = {
      cancelled: false,
      onCancel(listener: () => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const clock = startItemClock({ itemDeadlineMs: null, runDeadline: null }, noStop);
    const scope = taskScope(clock, cancellation);
    scope.dispose();
    clock.dispose();
    // Code the item left running reads its signal later.
    expect(scope.signal.aborted).toBe(false);
    expect(listeners.size).toBe(0);
  });

  it('is ended at once when the run was cancelled before the item began', async () => {
    const cancel = new AbortController();
    cancel.abort();
    const clock = startItemClock({ itemDeadlineMs: null, runDeadline: null }, noStop);
    const scope = taskScope(clock, cancellationOf(cancel.signal));
    await expect(scope.ended).rejects.toMatchObject({ category: 'aborted' });
    expect(scope.signal.aborted).toBe(true);
    clock.dispose();
  });
});
