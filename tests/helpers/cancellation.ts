// A Cancellation (control/stop.ts) that follows an AbortSignal, for tests that drive a cancel
// through an AbortController; the workers' own comes from their StopWatch.
import type { Cancellation } from '../../src/control/stop.js';

export function cancellationOf(signal: AbortSignal): Cancellation {
  return {
    get cancelled() {
      return signal.aborted;
    },
    onCancel(listener) {
      if (signal.aborted) {
        listener();
        return () => {};
      }
      signal.addEventListener('abort', listener, { once: true });
      return () => signal.removeEventListener('abort', listener);
    },
  };
}
