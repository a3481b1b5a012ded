// Results-file lines made in the worker threads (the CLI asks for them: WorkerSettings.readyLines).
// Each outcome used to cross to the main thread whole — the answer's body, the task's value — to
// be cloned back into objects there, rebuilt as a results line and stringified: most of the main
// thread's work and garbage per item (~15 KB of allocation an item, measured with V8's sampling
// heap profiler), and the largest cost of posting outcomes from the worker. Here the worker makes
// the line (io/output.ts readyLine) and the outcome crosses as its small fields and that one
// string: what the main thread needs for the summary, progress, spend caps and stop rules.
//
// An outcome that says the run stopped keeps its body: the main thread still rewrites its message
// with the stop's reason (run/run-batch.ts), so its line is made there, as are the lines of
// outcomes made on the main thread (items never sent, thread deaths).

import type { ItemRunner } from '../attempt/item-runner.js';
import { endpointOfUrl } from '../model/endpoint.js';
import { RUN_STOPPED } from '../model/errors.js';
import { toResult } from '../model/item-result.js';
import type { BatchItem, ItemOutcome } from '../model/outcome.js';
import { readyLine } from '../io/output.js';

function withLine(item: BatchItem, outcome: ItemOutcome): ItemOutcome {
  if (!outcome.ok && outcome.error.code === RUN_STOPPED) return outcome;
  // The main thread marks the endpoint too (run-batch.ts withEndpoint); the line needs it now.
  const endpoint = endpointOfUrl(item.url);
  if (endpoint !== null && endpoint !== 'chat') outcome.stats.endpoint = endpoint;
  const line = readyLine(toResult(outcome));
  if (!outcome.ok) return { ...outcome, body: null, line };
  const { value: _value, ...rest } = outcome;
  return { ...rest, body: null, line };
}

export function withReadyLines(runItem: ItemRunner): ItemRunner {
  return (item) => runItem(item).then((outcome) => withLine(item, outcome));
}
