// The caller's `onEvent` observer, made safe to call from the engine. Observer code is not ours:
// an exception from it must not end the cooldown keeper's loop (the next cooldown would never
// end), nor come back to a worker thread as a rejected Comlink call (an unhandled rejection there
// kills the thread and every item on it). Its first error is reported as a process warning, with
// how to find the others; the run goes on.

import type { BatchEvent } from '../model/events.js';

export type Observer = (event: BatchEvent) => void;

export function guardObserver(onEvent: Observer): Observer {
  let reported = false;
  return (event) => {
    try {
      onEvent(event);
    } catch (error) {
      if (reported) return;
      reported = true;
      const message = error instanceof Error ? error.message : String(error);
      process.emitWarning(`an event observer (onEvent, or the trace file) threw on a '${event.type}' event: ${message} (the run goes on; later errors of observers are not reported)`, {
        type: 'BatchLlmObserverWarning',
        code: 'ERR_BATCH_LLM_OBSERVER',
      });
    }
  };
}
