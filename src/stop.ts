// Stopping a run (fail-fast, deadline, Ctrl-C, spend cap, the library's AbortSignal). The main
// thread writes STOP; every worker thread watches it and turns it into two local signals: one
// that ends waits (gate, permits, backoffs) in either mode, and one that aborts requests on the
// wire, in 'cancel' mode only.

import { waitForChange } from './atomic-wait.js';
import { I32, type ControlBlock } from './control-block.js';

export type AbortMode = 'drain' | 'cancel';

const MODE_VALUE: Record<AbortMode, number> = { drain: 1, cancel: 2 };

/** Main thread: stop the run, or move a draining run on to cancelling. Never goes back. */
export function requestStop(block: ControlBlock, mode: AbortMode): void {
  const value = MODE_VALUE[mode];
  for (;;) {
    const current = Atomics.load(block.i32, I32.STOP);
    if (current >= value) return;
    if (Atomics.compareExchange(block.i32, I32.STOP, current, value) === current) break;
  }
  Atomics.notify(block.i32, I32.STOP);
}

export function isStopping(block: ControlBlock): boolean {
  return Atomics.load(block.i32, I32.STOP) !== 0;
}

export interface StopWatch {
  /** Resolves when the run stops, in either mode. */
  readonly stopped: Promise<void>;
  /** Aborted when the run is cancelled: passed to every request. */
  readonly cancel: AbortSignal;
}

/** Worker thread: watch STOP for the life of the thread. */
export function watchStop(block: ControlBlock): StopWatch {
  const cancel = new AbortController();
  let markStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  void (async () => {
    for (;;) {
      const value = Atomics.load(block.i32, I32.STOP);
      if (value >= 1) markStopped();
      if (value >= 2) {
        cancel.abort(new Error('the run was cancelled'));
        return;
      }
      await waitForChange(block.i32, I32.STOP, value);
    }
  })();
  return { stopped, cancel: cancel.signal };
}
