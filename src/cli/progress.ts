// What a run shows while it works, on stderr: on a terminal a live cli-progress bar, otherwise a
// plain line every few seconds (logs, CI). Both read the same snapshot: counts kept by the CLI plus
// the engine's cheap live view (live-stats.ts), which says when everybody is cooling down after a
// 429 or ramping back up.

import { createRequire } from 'node:module';
import { formatDuration } from '../model/duration.js';
import type { LiveStats } from '../run/live-stats.js';
import { formatNumber } from '../model/number-format.js';

export interface ProgressSnapshot {
  /** Items accounted for: results written in this run plus items skipped as already done. */
  done: number;
  /** Items expected in all (non-blank input lines), or null when unknown. */
  total: number | null;
  /** Results written in this run (the rate is computed from these). */
  written: number;
  /** Failed results written in this run, invalid input lines included. */
  failed: number;
  /** The engine's live view, or null before the run has started. */
  live: LiveStats | null;
}

export type ProgressMode = 'bar' | 'lines' | 'off';

export interface ProgressDisplay {
  /** Prints a message without garbling the bar. */
  log(message: string): void;
  /** Final render; the display is gone after this. */
  stop(): void;
}


// cli-progress (CommonJS) is required only when a bar is drawn, on a terminal: runs in logs, CI
// and scripts never load it, and no run waits for it before its first request.
const require = createRequire(import.meta.url);
type CliProgress = typeof import('cli-progress');

/** "cooling down 12 s", "ramping 8/64", "40 in flight": what the run is doing right now. */
export function phaseOf(live: LiveStats | null): string {
  if (live === null) return 'starting';
  if (live.outageMs !== null) return `endpoint not answering for ${Math.floor(live.outageMs / 1_000)} s, probing`;
  if (live.coolingDownMs !== null) return `cooling down ${Math.ceil(live.coolingDownMs / 1_000)} s`;
  if (live.limit < live.ceiling) return `ramping ${live.limit}/${live.ceiling}`;
  return `${live.inFlight} in flight`;
}

/** Items per second over the last few samples (a sliding window, so it follows changes). */
class RateMeter {
  readonly #samples: Array<{ at: number; count: number }> = [];
  readonly #windowMs: number;

  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs;
  }

  sample(count: number, at = performance.now()): number {
    this.#samples.push({ at, count });
    while (this.#samples.length > 2 && at - (this.#samples[1]?.at ?? at) >= this.#windowMs) this.#samples.shift();
    const first = this.#samples[0];
    if (first === undefined || at - first.at < 250) return 0;
    return ((count - first.count) * 1_000) / (at - first.at);
  }
}

function etaText(snapshot: ProgressSnapshot, rate: number): string {
  if (snapshot.total === null) return '?';
  const left = Math.max(0, snapshot.total - snapshot.done);
  if (left === 0) return '0 s';
  return rate > 0 ? formatDuration((left / rate) * 1_000) : '?';
}

/** A cost in the user's currency (prices are per million tokens, so small sums are common). */
export function formatCost(cost: number): string {
  return cost >= 100 ? cost.toFixed(0) : cost >= 1 ? cost.toFixed(2) : cost.toFixed(4);
}

function rateText(rate: number): string {
  return rate >= 100 ? formatNumber(Math.round(rate)) : rate.toFixed(1);
}

/** One plain progress line, as printed when stderr is not a terminal. */
export function progressLine(snapshot: ProgressSnapshot, rate: number): string {
  const { done, total, live } = snapshot;
  const of = total === null ? formatNumber(done) : `${formatNumber(done)}/${formatNumber(total)}`;
  const percent = total === null || total === 0 ? '' : ` (${Math.floor((100 * done) / total)}%)`;
  return [
    `${of} done${percent}`,
    `${rateText(rate)} items/s`,
    `ETA ${etaText(snapshot, rate)}`,
    `${formatNumber(snapshot.failed)} failed`,
    `${formatNumber(live?.tokens.total ?? 0)} tokens`,
    ...(live?.cost != null ? [`cost ${formatCost(live.cost)}`] : []),
    `${formatNumber(live?.rateLimited ?? 0)} 429s`,
    phaseOf(live),
  ].join(' | ');
}

/**
 * Starts the display. `read` is called a few times a second (bar) or every `intervalMs` (lines);
 * it must be cheap.
 */
export function startProgress(options: {
  mode: ProgressMode;
  read: () => ProgressSnapshot;
  stream: NodeJS.WritableStream;
  intervalMs?: number;
}): ProgressDisplay {
  const { mode, read, stream } = options;
  const write = (text: string): void => void stream.write(text);
  if (mode === 'off') return { log: (message) => write(`${message}\n`), stop: () => {} };
  const meter = new RateMeter();
  meter.sample(read().written);

  if (mode === 'lines') {
    const tick = (): void => {
      const snapshot = read();
      write(`batch-llm: ${progressLine(snapshot, meter.sample(snapshot.written))}\n`);
    };
    const timer = setInterval(tick, options.intervalMs ?? 5_000);
    timer.unref();
    return {
      log: (message) => write(`${message}\n`),
      stop: () => clearInterval(timer),
    };
  }

  const cliProgress = require('cli-progress') as CliProgress;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{bar} {value}/{total} {percentage}% | {rate} items/s | ETA {eta_text} | {failed} failed | {tokens} tokens{cost} | {r429} 429s | {phase}',
      barsize: 24,
      hideCursor: true,
      // Our own timer below feeds the values; cli-progress redraws at most this often.
      fps: 8,
      etaBuffer: 50,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (snapshot: ProgressSnapshot, rate: number): Record<string, string> => ({
    rate: rateText(rate),
    eta_text: etaText(snapshot, rate),
    failed: formatNumber(snapshot.failed),
    tokens: formatNumber(snapshot.live?.tokens.total ?? 0),
    cost: snapshot.live?.cost != null ? ` | cost ${formatCost(snapshot.live.cost)}` : '',
    r429: formatNumber(snapshot.live?.rateLimited ?? 0),
    phase: phaseOf(snapshot.live),
  });
  const first = read();
  bar.start(Math.max(first.total ?? 0, first.done), first.done, payload(first, 0));
  const refresh = (): void => {
    const snapshot = read();
    bar.setTotal(Math.max(snapshot.total ?? 0, snapshot.done));
    bar.update(snapshot.done, payload(snapshot, meter.sample(snapshot.written)));
  };
  const timer = setInterval(refresh, 250);
  timer.unref();
  return {
    log: (message) => {
      // Clear the bar's line, print the message, and let the next render draw the bar below it.
      write(`\r\x1b[2K${message}\n`);
      refresh();
    },
    stop: () => {
      clearInterval(timer);
      refresh();
      bar.stop();
    },
  };
}
