// `batch-llm run`: a JSONL file of requests in, a JSONL file of results out.
//
// Order of work: check every option (nothing is touched before that), scan the input (size, hash,
// line count), settle the results file (new, --overwrite, or --resume with its fingerprint check and
// torn-line repair), record the fingerprint, start the built-in simulator if no endpoint is
// configured, then stream: input reader -> engine -> one flushed line per item.

import { stat, truncate, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  BUILTIN_SIMULATOR,
  endpointIdentity,
  fingerprintDifferences,
  metaPathFor,
  readCheckpoint,
  readMeta,
  writeMeta,
  type Checkpoint,
  type RunFingerprint,
} from '../checkpoint.js';
import { formatDuration } from '../duration.js';
import type { BatchEvent } from '../events.js';
import { readInput, scanInput, type InputScan } from '../input.js';
import { OptionsError, resolveOptions, type BatchOptions } from '../options.js';
import type { BatchItem } from '../outcome.js';
import { invalidInputLine, ResultFile, resultLine, serializeLine } from '../output.js';
import { startProgress, type ProgressDisplay, type ProgressMode } from '../progress.js';
import { redact } from '../redact.js';
import { streamBatch } from '../run-batch.js';
import { startSimulator, type Simulator } from '../sim/index.js';
import { EXIT } from './exit-codes.js';
import { completionOrder, InputOrder, type ResultOrder } from './result-order.js';
import type { RunSettings } from './run-options.js';
import { formatRunSummary, runSummary } from './run-summary.js';
import { UsageError } from './usage-error.js';

export interface CliIO {
  env: NodeJS.ProcessEnv;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The model named when the built-in simulator runs and no --model was given. */
const SIMULATOR_MODEL = 'batch-llm-sim';

/** Categories after which the rest of the batch would fail the same way: stop admitting items. */
const FAIL_FAST = new Set(['auth', 'quota']);

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A URL's password (https://user:pass@host) is a secret too. */
function urlPassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

async function sizeOf(path: string): Promise<{ size: number; isFile: boolean } | null> {
  try {
    const info = await stat(path);
    return { size: info.size, isFile: info.isFile() };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Runs the command; resolves with the exit code. Throws UsageError for exit code 2. */
export async function runCommand(settings: RunSettings, io: CliIO): Promise<number> {
  const envURL = io.env['OPENAI_BASE_URL'];
  const baseURL = settings.baseURL ?? (envURL === '' ? undefined : envURL);
  const embedded = baseURL === undefined;
  const apiKey = settings.apiKey ?? io.env['OPENAI_API_KEY'];
  const model = settings.model ?? (embedded ? SIMULATOR_MODEL : undefined);
  const secrets = [apiKey, urlPassword(baseURL)];
  const clean = (text: string): string => secrets.reduce<string>((out, secret) => redact(out, secret), text);
  const say = (message: string): void => void io.stderr.write(`batch-llm: ${clean(message)}\n`);

  // 1. Options, checked by the library itself so the CLI cannot disagree with it.
  const engineOptions: Omit<BatchOptions, 'items'> = {
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(settings.concurrency !== undefined ? { concurrency: settings.concurrency } : {}),
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
    ...(settings.maxAttempts !== undefined ? { maxAttempts: settings.maxAttempts } : {}),
    ...(settings.maxRateLimitRetries !== undefined ? { maxRateLimitRetries: settings.maxRateLimitRetries } : {}),
    ...(settings.attemptTimeoutMs !== undefined ? { attemptTimeoutMs: settings.attemptTimeoutMs } : {}),
  };
  let concurrency: number;
  try {
    concurrency = resolveOptions({ ...engineOptions, items: [], baseURL: baseURL ?? 'http://127.0.0.1/v1' }, io.env).concurrency;
  } catch (error) {
    if (error instanceof OptionsError) throw new UsageError(clean(error.message));
    throw error;
  }
  if (resolve(settings.input) === resolve(settings.out)) {
    throw new UsageError(`--out ${settings.out} is the input file; write the results elsewhere`);
  }

  // 2. The input: readable, and what it is (for the fingerprint and the progress total).
  let scan: InputScan;
  try {
    scan = await scanInput(settings.input);
  } catch (error) {
    throw new UsageError(`cannot read the input file ${settings.input}: ${errorText(error)}`);
  }

  // 3. The results file.
  const fingerprint: RunFingerprint = {
    base_url: embedded ? BUILTIN_SIMULATOR : endpointIdentity(baseURL),
    model: model ?? null,
    task_sha256: null,
    input: { path: resolve(settings.input), size: scan.size, sha256: scan.sha256 },
  };
  const metaPath = metaPathFor(settings.out);
  let checkpoint: Checkpoint | null = null;
  const existing = await sizeOf(settings.out).catch((error: unknown) => {
    throw new UsageError(`cannot use --out ${settings.out}: ${errorText(error)}`);
  });
  if (existing !== null && !existing.isFile) throw new UsageError(`--out ${settings.out} is not a regular file`);
  if (settings.resume) {
    if (existing === null || existing.size === 0) {
      say(`nothing to resume in ${settings.out}; starting a new run`);
    } else {
      const meta = await readMeta(metaPath);
      if (meta.kind === 'found') {
        const differences = fingerprintDifferences(meta.meta.fingerprint, fingerprint);
        if (differences.length > 0 && !settings.forceResume) {
          throw new UsageError(
            `cannot resume ${settings.out}: it was written by a different run (${differences.join('; ')}). ` +
              'Use --force-resume to resume it anyway, or --overwrite to start over.',
          );
        }
        if (differences.length > 0) say(`--force-resume: resuming although ${differences.join('; ')}`);
      } else {
        say(
          `no usable run fingerprint in ${metaPath} (${meta.kind === 'missing' ? 'missing' : meta.reason}); ` +
            'cannot check that this is the same run — resuming anyway',
        );
      }
      checkpoint = await readCheckpoint(settings.out);
      if (checkpoint.torn !== null) {
        say(
          `${settings.out} ended in a torn line (${checkpoint.torn.bytes} bytes, from an interrupted write); ` +
            `moved it to ${checkpoint.torn.sidePath} and resuming after the last whole line`,
        );
      }
      if (checkpoint.corrupt.length > 0) {
        const shown = checkpoint.corrupt.slice(0, 5).join(', ') + (checkpoint.corrupt.length > 5 ? ', …' : '');
        say(`${settings.out}: ignoring ${checkpoint.corrupt.length} unreadable line(s) (line ${shown})`);
      }
      say(
        `resuming ${settings.out}: ${checkpoint.succeeded.size} item(s) already succeeded and are skipped; ` +
          `${checkpoint.failed} failed item(s) run again`,
      );
    }
  } else if (existing !== null && existing.size > 0) {
    if (!settings.overwrite) {
      throw new UsageError(
        `${settings.out} already exists and is not empty; use --resume to continue that run or --overwrite to start over`,
      );
    }
    await truncate(settings.out, 0);
  }
  await writeMeta(metaPath, fingerprint);

  // 4. The endpoint.
  let simulator: Simulator | null = null;
  if (embedded) {
    simulator = await startSimulator({ host: '127.0.0.1', port: 0, recordRequests: false });
    say(`no endpoint configured (--base-url or OPENAI_BASE_URL): using the built-in simulator at ${simulator.url}`);
    if (apiKey !== undefined) {
      say('an API key is set but no endpoint: for OpenAI itself pass --base-url https://api.openai.com/v1');
    }
  }

  // 5. The run.
  const file = new ResultFile(settings.out, { fsync: settings.fsync });
  const write = (text: string): void => file.append(clean(text));
  // A window of 4 × concurrency keeps every slot busy behind one slow item for a good while,
  // and holds at most that many lines (a few hundred bytes each).
  const order: ResultOrder = settings.preserveOrder ? new InputOrder(write, Math.max(256, 4 * concurrency)) : completionOrder(write);
  const mode: ProgressMode = !settings.progress ? 'off' : io.stderr.isTTY === true ? 'bar' : 'lines';

  let written = 0;
  let failed = 0;
  let invalid = 0;
  let skipped = 0;
  let stopReason: string | null = null;
  let signalStop: () => void = () => {};
  const stopped = new Promise<void>((resolveStop) => (signalStop = resolveStop));
  const requestStop = (reason: string): void => {
    if (stopReason !== null) return;
    stopReason = reason;
    signalStop();
  };

  // Items handed to the engine and not yet written: their sequence number and input line.
  const pending = new Map<string, { seq: number; line: number }>();
  const done = checkpoint?.succeeded ?? new Set<string>();
  let inputError: unknown = null;

  async function* items(): AsyncGenerator<BatchItem, void, undefined> {
    let seq = 0;
    try {
      for await (const record of readInput(settings.input)) {
        if (stopReason !== null) return;
        if (record.kind === 'item' && done.has(record.item.custom_id)) {
          skipped += 1;
          continue;
        }
        const room = order.roomFor(seq);
        if (room !== null) {
          await Promise.race([room, stopped]);
          if (stopReason !== null) return;
        }
        if (record.kind === 'invalid') {
          invalid += 1;
          failed += 1;
          written += 1;
          order.put(seq++, serializeLine(invalidInputLine(record)));
          continue;
        }
        pending.set(record.item.custom_id, { seq: seq++, line: record.line });
        yield record.item;
      }
    } catch (error) {
      // The file became unreadable mid-run: stop admitting, let the running items finish.
      inputError = error;
      requestStop('the input file could not be read');
    }
  }

  let progress: ProgressDisplay | null = null;
  const onEvent = (event: BatchEvent): void => {
    if (event.type === 'cooldown-opened' && mode === 'lines') {
      progress?.log(`batch-llm: rate limited: every request pauses for ${formatDuration(event.until - event.at)}`);
    }
  };
  const stream = streamBatch({ ...engineOptions, baseURL: simulator?.url ?? baseURL ?? '', items: items(), onEvent });
  progress = startProgress({
    mode,
    stream: io.stderr,
    intervalMs: settings.progressIntervalMs,
    read: () => ({ done: written + skipped, total: scan.lines, written, failed, live: stream.live() }),
  });

  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts === 1) {
      requestStop(`${signal}`);
      progress?.log(
        `batch-llm: ${signal}: no new items; letting the ${pending.size} item(s) in progress finish ` +
          '(again to stop at once; unfinished items run again with --resume)',
      );
      return;
    }
    // Every finished line is already in the file (written synchronously): leaving now loses nothing.
    progress?.stop();
    file.close();
    say(`${signal} again: stopped at once; run the same command with --resume to finish`);
    process.exit(EXIT.stopped);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    for await (const result of stream) {
      const entry = pending.get(result.custom_id);
      pending.delete(result.custom_id);
      const text = serializeLine(resultLine(result, entry?.line ?? null));
      if (entry === undefined) write(text);
      else order.put(entry.seq, text);
      written += 1;
      if (!result.ok) {
        failed += 1;
        if (FAIL_FAST.has(result.error.category) && stopReason === null) {
          requestStop(`${result.error.category} error`);
          progress.log(
            `batch-llm: stopping: ${result.error.category} error (${clean(result.error.message)}); ` +
              'no new items are started, and the rest runs with --resume once it is fixed',
          );
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.stop();
    file.close();
    await simulator?.close();
  }

  const summary = runSummary(stream.summary(), { invalid, skipped, stopped: stopReason, output: settings.out });
  io.stderr.write(`${clean(formatRunSummary(summary))}\n`);
  if (settings.summary !== undefined) {
    await writeFile(settings.summary, clean(`${JSON.stringify(summary, null, 2)}\n`));
  }
  if (inputError !== null) throw new UsageError(`cannot read the input file ${settings.input}: ${errorText(inputError)}`);
  if (stopReason !== null) return EXIT.stopped;
  return summary.failed > 0 ? EXIT.failures : EXIT.ok;
}
