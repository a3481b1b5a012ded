// The streaming part of `batch-llm run`: input reader -> engine -> one flushed line per item, with
// progress, interrupts and the summary.
//
// Stopping is the engine's (fail-fast, --deadline, spend caps, stream.stop()): nothing new starts,
// and the items it already holds get `aborted` results (at most --concurrency of them). The
// reader stops reading the input there: a stop takes as long as the attempts on the wire, not as
// long as writing an `aborted` line for each of a million unread lines. Every input line up to
// the last one read has its line in the results; the run's end (io/checkpoint.ts RunEnd, in the
// meta file) records that line and how many input lines have no result line yet ("not started").
// --resume runs those and the aborted ones; the summary and `batch-llm report` count them alike.

import type { Checkpoint, RunEnd } from '../io/checkpoint.js';
import { readInputBatches, type LineMode } from '../io/input.js';
import type { Endpoint } from '../model/endpoint.js';
import type { BatchOptions } from '../run/options.js';
import type { BatchItem } from '../model/outcome.js';
import { invalidInputLine, joinLine, ResultFile, resultLine, serializeLine } from '../io/output.js';
import { startProgress, type ProgressMode } from './progress.js';
import { streamBatch, type BatchStream } from '../run/run-batch.js';
import type { PrestartedPool } from '../pool/prestart.js';
import { EXIT } from './exit-codes.js';
import { completionOrder, InputOrder, type ResultOrder } from './result-order.js';
import { runSummary, type RunSummary } from './run-summary.js';

export interface StreamPlan {
  /** A path, or a stream read once (stdin). */
  input: string | NodeJS.ReadableStream;
  out: string;
  /** The engine's options, all but `items`. */
  engine: Omit<BatchOptions, 'items'>;
  concurrency: number;
  checkpoint: Checkpoint | null;
  lineMode: LineMode;
  /** The endpoint of lines that name none (short form, no url, records). @default "chat" */
  endpoint?: Endpoint | undefined;
  preserveOrder: boolean;
  fsync: boolean;
  progress: ProgressMode;
  progressIntervalMs: number;
  /** Non-blank input lines, the progress total; null when unknown (a pipe). */
  total: number | null;
  /** Removes secrets from any text before it is written. */
  clean: (text: string) => string;
  stderr: NodeJS.WritableStream;
  /** Opens the engine (default: streamBatch); `lineOf` gives a handed-over item's input line. */
  open?: ((options: BatchOptions, lineOf: (customId: string) => number | undefined) => BatchStream) | undefined;
  /** Threads started for this run before it began (pool/prestart.ts), for the default engine. */
  threads?: PrestartedPool | undefined;
}

export interface StreamOutcome {
  summary: RunSummary;
  exitCode: number;
  /** A write to the results file failed (the run stopped there; exit 3), or null. */
  writeError: NodeJS.ErrnoException | null;
  /** The input file failed mid-run (it was readable at the start), or null. */
  inputError: unknown;
  /** How the run ended, for the meta file. */
  end: RunEnd;
}

/** SIGHUP too: a closed terminal or a lost SSH session stops the run like SIGTERM, not by killing it. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function ignoreLate(): void {}

/** The reason a run stops when its results file cannot be written (or, with --fsync, synced). */
function writeStop(out: string, error: NodeJS.ErrnoException): string {
  return `cannot ${error.syscall === 'fsync' ? 'sync' : 'write'} ${out}: ${error.code ?? error.message}`;
}

export async function streamToFile(plan: StreamPlan): Promise<StreamOutcome> {
  const { clean } = plan;
  const file = new ResultFile(plan.out, { fsync: plan.fsync });
  // Lines in the file: an item counts as done only once its line is there.
  let written = 0;
  // A write that failed (a full disk, a file size limit): the run stops at once, in cancel mode,
  // since answers that cannot be written would be paid for again on resume.
  let writeError: NodeJS.ErrnoException | null = null;
  // Lines finished in this turn of the event loop, written together once it ends: the outcomes of
  // one worker message (tens at a time in fast runs) cost one system call instead of one each.
  // They wait no longer than the outcomes' own message did: nothing is counted as written
  // (progress, the summary) before it is in the file.
  let unwritten: string[] = [];
  let flushQueued = false;
  const flush = (): void => {
    flushQueued = false;
    const lines = unwritten;
    unwritten = [];
    if (lines.length === 0 || writeError !== null) return;
    const failed = file.appendLines(clean(lines.join('')));
    if (failed === null) {
      written += lines.length;
      return;
    }
    written += failed.linesWritten;
    writeError = failed.error;
    stream.stop('cancel', writeStop(plan.out, writeError));
  };
  const write = (text: string): void => {
    if (writeError !== null) return;
    unwritten.push(text);
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };
  // A window of 4 × concurrency keeps every slot busy behind one slow item for a good while and
  // holds at most that many lines (a few hundred bytes each).
  const order: ResultOrder = plan.preserveOrder ? new InputOrder(write, Math.max(256, 4 * plan.concurrency)) : completionOrder(write);

  let failed = 0;
  let invalid = 0;
  let skipped = 0;
  // Items handed to the engine and not yet written: their sequence number and input line.
  const pending = new Map<string, { seq: number; line: number }>();
  const done = plan.checkpoint?.succeeded ?? new Set<string>();
  let inputError: unknown = null;
  // The run is stopping (a signal, the engine's own stop, a write error): read no further.
  let stopping = false;
  // Where the reader is: the last input line taken (handed out, skipped or written as invalid),
  // how many non-blank lines that is, and whether it reached the end of the input.
  let lastLine = 0;
  let linesRead = 0;
  let readToEnd = false;

  async function* items(): AsyncGenerator<BatchItem, void, undefined> {
    let seq = 0;
    try {
      // A batch at a time (one read of the input): an async step per line costs the main thread, which binds a fast run.
      for await (const records of readInputBatches(plan.input, { mode: plan.lineMode, endpoint: plan.endpoint ?? 'chat', ...(plan.total === null ? {} : { lines: plan.total }) })) {
        for (const record of records) {
          if (stopping || writeError !== null) return;
          if (record.kind === 'item' && done.has(record.item.custom_id)) {
            skipped += 1;
            lastLine = record.line;
            linesRead += 1;
            continue;
          }
          // --preserve-order: wait until this line's turn is within the window (see result-order.ts).
          const room = order.roomFor(seq);
          if (room !== null) await room;
          // A stop may have come while waiting: this line stays unread, like the rest.
          if (stopping || writeError !== null) return;
          lastLine = record.line;
          linesRead += 1;
          if (record.kind === 'invalid') {
            invalid += 1;
            failed += 1;
            order.put(seq++, serializeLine(invalidInputLine(record)));
            continue;
          }
          pending.set(record.item.custom_id, { seq: seq++, line: record.line });
          yield record.item;
        }
      }
      readToEnd = true;
    } catch (error) {
      // The file became unreadable mid-run: the items already running finish; exit code 2.
      inputError = error;
    }
  }

  const engineOptions = { ...plan.engine, items: items() };
  const stream = plan.open ? plan.open(engineOptions, (id) => pending.get(id)?.line) : streamBatch(engineOptions, { readyLines: true, threads: plan.threads });
  const progress = startProgress({
    mode: plan.progress,
    stream: plan.stderr,
    intervalMs: plan.progressIntervalMs,
    read: () => ({ done: written + skipped, total: plan.total, written, failed, live: stream.live() }),
  });

  // First signal drains, the second cancels attempts on the wire, the third leaves at once.
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    stopping = true;
    if (interrupts === 1) {
      stream.stop('drain', `interrupted (${signal})`);
      progress.log(
        `batch-llm: ${signal}: draining: nothing new starts, the ${pending.size} attempt(s) in progress finish, ` +
          'items waiting get "aborted" lines, the rest of the input is left for --resume (again to cancel the attempts in progress)',
      );
    } else if (interrupts === 2) {
      stream.stop('cancel', `interrupted (${signal})`);
      progress.log(`batch-llm: ${signal} again: cancelling the attempts in progress (once more to quit at once)`);
    } else {
      // Every finished line goes to the file now (written synchronously): leaving loses nothing.
      flush();
      progress.stop();
      file.close();
      plan.stderr.write(`batch-llm: ${signal}: quitting at once; run the same command with --resume to finish\n`);
      process.exit(EXIT.stopped);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

  let toldStop = false;
  try {
    for await (const result of stream) {
      const entry = pending.get(result.custom_id);
      pending.delete(result.custom_id);
      // A line made in the item's worker thread needs only its input line number (pool/ready-lines.ts).
      const text = result.line === undefined ? serializeLine(resultLine(result, entry?.line ?? null)) : joinLine(result.line, entry?.line ?? null);
      if (entry === undefined) write(text);
      else order.put(entry.seq, text);
      if (result.ok) continue;
      failed += 1;
      // Only a stop aborts an item (run-control.ts): the reader stops at the first one.
      if (result.error.category === 'aborted') stopping = true;
      if (!toldStop && interrupts === 0 && result.error.category === 'aborted') {
        // The engine stopped the run (fail-fast, deadline, spend cap): say so once.
        toldStop = true;
        progress.log(`batch-llm: stopping: ${clean(result.error.message)}; the rest of the input is left for --resume`);
      }
    }
  } finally {
    for (const signal of STOP_SIGNALS) {
      process.off(signal, onSignal);
      // A signal in the last moments (the summary being written) must not kill the process with
      // 130 and hide the exit code: every line is written by now, so it is simply let pass.
      process.once(signal, ignoreLate);
    }
    flush();
    progress.stop();
    // With --fsync, a sync that failed is a write that failed: the run stops (below).
    writeError ??= file.close();
  }

  // Input lines without a result line: the unread ones, less those an earlier run wrote (resume).
  let notStarted: number | null = 0;
  if (!readToEnd) {
    const earlier = plan.checkpoint?.inputLines.countAfter(lastLine) ?? 0;
    notStarted = plan.total === null ? null : Math.max(0, plan.total - linesRead - earlier);
  }
  const engine = stream.summary();
  // The last lines are written after the engine has ended (the flush above): a write that failed
  // there stopped nothing in the engine, yet the run stopped all the same. Its items without a
  // line run again on resume, so the run must not look complete (exit 0, a complete meta file).
  const stopped = engine.stopped ?? (writeError === null ? null : { reason: writeStop(plan.out, writeError), mode: 'cancel' as const });
  const summary = runSummary({ ...engine, stopped }, { invalid, skipped, output: plan.out, notStarted, stoppedAfterLine: readToEnd ? null : lastLine });
  const exitCode = summary.stopped !== null ? EXIT.stopped : summary.failed > 0 ? EXIT.failures : EXIT.ok;
  const end: RunEnd =
    readToEnd && stopped === null
    ? { state: 'complete' }
    : {
        state: 'stopped',
        reason: clean(stopped?.reason ?? 'the input could not be read'),
        after_line: lastLine,
        input_lines: plan.total,
        not_started: notStarted,
      };
  return { summary, exitCode, writeError, inputError, end };
}
