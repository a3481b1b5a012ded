// Who hears the run's events: the caller's `onEvent`, the trace file (`trace`), or both, or
// nobody — then nothing is built and the workers open no event channel (the hot path pays
// nothing). Also the time series: sampled always (its aggregate goes into the summary), handed
// to the observers as `sample` events when there are any.

import { redact, runSecrets, urlWithoutSecrets } from '../model/redact.js';
import { guardObserver } from './guarded-observer.js';
import type { BatchEvent } from '../model/events.js';
import { SeriesSampler } from '../trace/series.js';
import { TraceFile } from '../trace/trace-file.js';
import type { ResolvedOptions } from './options.js';
import type { LiveStats } from './live-stats.js';

export interface RunObserver {
  /** Sends an event to every observer; undefined when there are none. */
  readonly emit: ((event: BatchEvent) => void) | undefined;
  readonly sampler: SeriesSampler;
  /** Takes the last sample and closes the trace file. */
  close(): void;
}

/** The run's settings as the trace records them: no key, no URL password or credential query value, no header values. */
export function traceSettings(options: ResolvedOptions): Record<string, string | number | boolean | null> {
  return {
    baseURL: redact(urlWithoutSecrets(options.baseURL), options.apiKey),
    model: options.model ?? null,
    task: options.task ?? null,
    concurrency: options.concurrency,
    threads: options.threads ?? null,
    rampStart: options.rampStart,
    maxAttempts: options.maxAttempts,
    maxRateLimitRetries: options.maxRateLimitRetries,
    attemptTimeoutMs: options.attemptTimeoutMs,
    outagePatienceMs: options.outagePatienceMs,
    outageProbeMs: options.outageProbeMs,
    cooldownBaseMs: options.cooldownBaseMs,
    cooldownMaxMs: options.cooldownMaxMs,
    rpm: options.rpm ?? null,
    tpm: options.tpm ?? null,
    learnRateLimits: options.learnRateLimits,
    abortMode: options.abortMode,
    deadlineMs: options.deadlineMs ?? null,
    sampleIntervalMs: options.sampleIntervalMs,
    headers: Object.keys(options.headers).join(', '),
  };
}

export function observeRun(options: ResolvedOptions, live: () => LiveStats): RunObserver {
  const trace = options.trace === undefined ? null : new TraceFile(options.trace, runSecrets(options));
  const { onEvent } = options;
  let emit: ((event: BatchEvent) => void) | undefined;
  if (trace !== null && onEvent !== undefined) {
    emit = (event) => {
      trace.record(event);
      onEvent(event);
    };
  } else if (trace !== null) {
    emit = (event) => trace.record(event);
  } else {
    emit = onEvent;
  }
  // Observer code (and a trace file on a full disk) must not be able to stop the engine.
  if (emit !== undefined) emit = guardObserver(emit);
  emit?.({ type: 'run-started', settings: traceSettings(options) });
  const sampler = new SeriesSampler(
    options.sampleIntervalMs,
    () => {
      const now = live();
      return {
        done: now.done,
        succeeded: now.succeeded,
        failed: now.failed,
        inFlight: now.inFlight,
        limit: now.limit,
        ceiling: now.ceiling,
        requests: now.requests,
        rateLimited: now.rateLimited,
        cooldownOpen: now.coolingDownMs !== null,
        outage: now.outagePause,
        tokens: now.tokens.total,
        cost: now.cost,
      };
    },
    emit && ((sample) => emit({ type: 'sample', ...sample })),
  );
  return {
    emit,
    sampler,
    close() {
      sampler.stop();
      trace?.close();
    },
  };
}
