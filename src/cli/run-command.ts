// `batch-llm run`: a JSONL file of requests in, a JSONL file of results out.
//
// Order of work: check every option (nothing is touched before that), load the task, start the
// worker threads of an online run (they boot meanwhile and wait for the run's settings:
// pool/prestart.ts), scan the input (size, hash, line count), settle the results file (new,
// --overwrite, or --resume: prepare-output.ts), start the built-in simulator if no endpoint is
// configured, then stream (run-stream.ts) and report.
//
// What only some runs need loads when they need it (dynamic import), so that a plain run puts
// its first request on the wire soon after the process starts (issue 12 point 4): the simulator
// (only without an endpoint), the distributed coordinator (bullmq, ioredis: only with --redis),
// the Batch API path (the whole `openai` package: only with --via batch-api, or for its report).

import { stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BUILTIN_SIMULATOR, hashFile, metaPathFor, writeRunEnd, type RunFingerprint } from '../io/checkpoint.js';
import { identityLockPath, takeLock, type RunLock } from '../io/run-lock.js';
import { checkRunPaths, lockPathFor, type InputKind } from './run-paths.js';
import { scanInput, type InputScan } from '../io/input.js';
import { FileLockedError, OptionsError } from '../model/errors.js';
import { resolveOptions, type BatchOptions, type ResolvedOptions } from '../run/options.js';
import type { ProgressMode } from './progress.js';
import { endpointIdentity, redactAll, secretList, urlSecrets } from '../model/redact.js';
import type { Simulator } from '../sim/index.js';
import { loadTask } from '../task/task-loader.js';
import type { Task } from '../task/task.js';
import { prepareOutput } from './prepare-output.js';
import { FLAG_OF, type RunSettings } from './run-options.js';
import { streamToFile, type StreamPlan } from './run-stream.js';
import { createHash } from 'node:crypto';
import { PrestartedPool } from '../pool/prestart.js';
import { poolShape } from '../run/thread-count.js';
import { formatRunSummary } from './run-summary.js';
import { UsageError } from '../model/errors.js';
import { readBatchState } from '../batch-api/batch-state.js';
import { chooseVia, formatVia, type ViaReport } from '../batch-api/via-choice.js';
import { formatCost } from './progress.js';

export interface CliIO {
  env: NodeJS.ProcessEnv;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Threads the CLI's entry started from the command line (early-threads.ts), taken if they fit the run. */
  earlyThreads?: PrestartedPool | null;
}

/** The model named when the built-in simulator runs and no --model was given. */
const SIMULATOR_MODEL = 'batch-llm-sim';

/** The library names options as in code (`maxAttempts`); on the command line they are flags. */
function flagNames(message: string): string {
  return message.replace(/`([\w.]+)`/g, (whole, name: string) => {
    const flag = FLAG_OF.get(name);
    return flag === undefined ? whole : `\`${flag}\``;
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The secrets of a URL given by `flag` (model/redact.ts urlSecrets). Throws UsageError for a URL
 * that cannot be parsed: every request would fail, after the run had started.
 */
function secretsOfUrl(url: string | undefined, flag: string): string[] {
  if (url === undefined) return [];
  try {
    return urlSecrets(url);
  } catch {
    throw new UsageError(`${flag}: expected an http(s) URL such as http://localhost:8000/v1, got a string that is not a URL`);
  }
}

/** Runs the command; resolves with the exit code. Throws UsageError for exit code 2. */
export async function runCommand(settings: RunSettings, io: CliIO): Promise<number> {
  const envURL = io.env['OPENAI_BASE_URL'];
  const baseURL = settings.engine.baseURL ?? (envURL === '' ? undefined : envURL);
  const embedded = baseURL === undefined;
  const apiKey = settings.engine.apiKey ?? io.env['OPENAI_API_KEY'];
  const model = settings.engine.model ?? (embedded ? SIMULATOR_MODEL : undefined);
  const secrets = secretList(apiKey, ...secretsOfUrl(baseURL, settings.engine.baseURL !== undefined ? '--base-url' : 'OPENAI_BASE_URL'), ...secretsOfUrl(settings.redis, '--redis'));
  const clean = (text: string): string => redactAll(text, secrets);
  const say = (message: string): void => void io.stderr.write(`batch-llm: ${clean(message)}\n`);

  // 1. Options, checked by the library itself so that the CLI cannot disagree with it. Every
  // option accepts undefined (the library's default), so the settings go over as they are.
  const engine: Omit<BatchOptions, 'items'> = { ...settings.engine, apiKey, model };
  let checked: ResolvedOptions;
  try {
    checked = resolveOptions({ ...engine, items: [], baseURL: baseURL ?? 'http://127.0.0.1/v1' }, io.env);
  } catch (error) {
    if (error instanceof OptionsError) throw new UsageError(clean(flagNames(error.message)));
    throw error;
  }
  const metaPath = metaPathFor(settings.out);
  const inputKind = await checkRunPaths({ input: settings.input, out: settings.out, meta: metaPath, summary: settings.summary });
  if (inputKind !== 'file' && chooseVia(settings.via, settings.engine.deadlineMs).chosen === 'batch-api') {
    throw new UsageError(`--via ${settings.via} needs the input as a file: the Batch API run reads it more than once (to split it, and to finish what the batches did not); ${settings.input} is a pipe or stdin`);
  }
  if (inputKind !== 'file' && settings.resume) {
    throw new UsageError(
      `--resume needs the input as a file: ${settings.input} is a pipe (or stdin), read only once, so the run cannot be ` +
        'checked against it or read again. Save the input to a file and resume with that file (--resume --force-resume).',
    );
  }

  // One run per results file: a second one would write every item again (run-lock.ts). Locked by
  // name, and by identity once the file exists (a hard link is the same file under another name).
  const locks: RunLock[] = [];
  const release = (): void => {
    for (const lock of locks) lock.release();
  };
  const lockFile = (path: string, how: string): void => {
    try {
      locks.push(takeLock(path));
    } catch (error) {
      release();
      if (error instanceof FileLockedError) {
        throw new UsageError(
          `${settings.out} is in use by another batch-llm run${how} (pid ${error.owner.pid} on ${error.owner.host}, since ${error.owner.since}; ` +
            `lock ${error.path}): wait for it to end or stop it; a lock left by a run that died is taken over by itself`,
        );
      }
      throw new UsageError(`--out ${settings.out}: cannot lock it (${path}): ${errorText(error)}`);
    }
  };
  let identityLocked = false;
  /** Locks the file by device and inode, once it exists: before the run when it does, else once made. */
  const lockIdentity = async (): Promise<void> => {
    if (identityLocked) return;
    const info = await stat(settings.out).catch(() => null);
    if (info === null) return;
    lockFile(identityLockPath(info), ' under another name (a hard link: the same device and inode)');
    identityLocked = true;
  };
  lockFile(await lockPathFor(settings.out), '');
  await lockIdentity();
  // The third Ctrl-C leaves through process.exit: the locks go too.
  process.on('exit', release);
  try {
    return await lockedRun(settings, inputKind, { engine, checked, embedded, baseURL, apiKey, model, clean, say, lockIdentity }, io);
  } finally {
    release();
    process.off('exit', release);
  }
}

interface Resolved {
  engine: Omit<BatchOptions, 'items'>;
  /** The options as the library resolved them (defaults filled in). */
  checked: ResolvedOptions;
  embedded: boolean;
  baseURL: string | undefined;
  apiKey: string | undefined;
  model: string | undefined;
  clean: (text: string) => string;
  say: (message: string) => void;
  /** Takes the identity lock of --out if it was not taken yet (the file did not exist). */
  lockIdentity: () => Promise<void>;
}

/** The run, once its results file is locked. */
async function lockedRun(settings: RunSettings, inputKind: InputKind, resolved: Resolved, io: CliIO): Promise<number> {
  const { checked, clean } = resolved;
  // 2. The task, loaded once here so that a broken file fails now, with exit code 2.
  let task: Task | null = null;
  let taskHash: string | null = null;
  if (settings.engine.task !== undefined) {
    try {
      task = await loadTask(settings.engine.task);
      taskHash = await hashFile(settings.engine.task);
    } catch (error) {
      throw new UsageError(clean(`--task ${settings.engine.task}: ${errorText(error)}`));
    }
  }

  // 2½. The worker threads of a run made here and online: those the entry started if they are the
  // pool this run wants, else started now, so that they boot while the input is scanned and the
  // results file prepared (pool/prestart.ts); the run adopts them.
  const way = chooseVia(settings.via, settings.engine.deadlineMs);
  const shape = way.chosen === 'online' && settings.redis === undefined ? poolShape(checked, task ?? undefined) : null;
  const early = io.earlyThreads ?? null;
  const threads = shape === null ? null : early?.fits(shape) ? early : new PrestartedPool(shape);
  // Threads of a wrong guess take a core from the run: they go now.
  if (early !== null && early !== threads) await early.close().catch(() => {});
  try {
    return await preparedRun(settings, inputKind, resolved, io, { task, taskHash, way, threads });
  } finally {
    // A run that began closed them already (and reported a failure to); here they end after a
    // failure before the run, whose error must not be replaced by one of closing.
    await threads?.close().catch(() => {});
  }
}

/** What lockedRun has made of the run before its input is read. */
interface Started {
  task: Task | null;
  taskHash: string | null;
  way: Pick<ViaReport, 'chosen' | 'reason'>;
  threads: PrestartedPool | null;
}

/** Steps 3 to 7: the input, the results file, the endpoint, the run and its report. */
async function preparedRun(settings: RunSettings, inputKind: InputKind, resolved: Resolved, io: CliIO, started: Started): Promise<number> {
  const { engine, checked, embedded, baseURL, model, apiKey, clean, say, lockIdentity } = resolved;
  const { task, taskHash, way, threads } = started;
  // 3. The input: readable, and what it is (for the fingerprint and the progress total).
  // A stream (a pipe, stdin) is read once, by the run itself: it has no size, hash or line count.
  let scan: InputScan = { size: 0, sha256: 'unknown: read from a pipe', lines: 0 };
  if (inputKind === 'file') {
    try {
      scan = await scanInput(settings.input);
    } catch (error) {
      throw new UsageError(`cannot read the input file ${settings.input}: ${errorText(error)}`);
    }
  }

  // 3½. A Redis that cannot be reached is refused now, before the results file is touched.
  if (settings.redis !== undefined) {
    const { reachRedis } = await import('../distributed/redis-connection.js');
    await reachRedis(settings.redis).catch((error: unknown) => {
      throw new UsageError(`--redis: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  // 4. The results file.
  const fingerprint: RunFingerprint = {
    base_url: baseURL === undefined ? BUILTIN_SIMULATOR : endpointIdentity(baseURL),
    model: model ?? null,
    task_sha256: taskHash,
    // Only when not chat, so that the meta files of runs from before --endpoint still match.
    ...(settings.endpoint !== 'chat' ? { endpoint: settings.endpoint } : {}),
    input: { path: inputKind === 'stdin' ? 'stdin' : resolve(settings.input), size: scan.size, sha256: scan.sha256 },
  };
  // What an earlier --via batch-api run submitted: read before prepareOutput rewrites the meta file.
  const submitted = settings.resume ? await readBatchState(metaPathFor(settings.out)) : null;
  const checkpoint = await prepareOutput({ ...settings, fingerprint, inputLines: inputKind === 'file' ? scan.lines : null }, say);
  // prepareOutput made the file if it was new: from now on a hard link to it finds it locked.
  await lockIdentity();

  // 5. The endpoint.
  let simulator: Simulator | null = null;
  if (embedded) {
    const { startSimulator } = await import('../sim/server.js');
    simulator = await startSimulator({ host: '127.0.0.1', port: 0, recordRequests: false });
    say(`no endpoint configured (--base-url or OPENAI_BASE_URL): using the built-in simulator at ${simulator.url}`);
    if (apiKey !== undefined) say('an API key is set but no endpoint: for OpenAI itself pass --base-url https://api.openai.com/v1');
  }

  // 6. The run: here, or coordinated through Redis (distributed/coordinator.ts).
  let open: StreamPlan['open'];
  if (settings.redis !== undefined) {
    const redisURL = settings.redis;
    const runId = settings.runId ?? createHash('sha256').update(`${scan.sha256}\n${resolve(settings.out)}`).digest('hex').slice(0, 16);
    const [{ coordinateBatch, DEFAULT_CHUNK_SIZE }, { redactRedisUrl }] = await Promise.all([import('../distributed/coordinator.js'), import('../distributed/redis-connection.js')]);
    const chunkSize = settings.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (chunkSize < 1) throw new UsageError(`--chunk-size: expected a whole number >= 1, got ${chunkSize}`);
    say(`distributed run ${runId}: more machines join with: batch-llm worker --redis ${redactRedisUrl(redisURL)} --run-id ${runId}`);
    open = (options, lineOf) =>
      coordinateBatch(
        { ...options, ...(options.task !== undefined ? { task: resolve(options.task) } : {}) },
        { redis: redisURL, runId, chunkSize, localWork: settings.localWork, inputSha256: scan.sha256, taskSha256: taskHash, lineOf, log: say },
      );
  }
  const progress: ProgressMode = !settings.progress ? 'off' : io.stderr.isTTY === true ? 'bar' : 'lines';
  const lineMode = task?.buildRequest !== undefined ? 'records' : 'requests';
  let outcome;
  let via: ViaReport | null = null;
  try {
    if (way.chosen === 'batch-api') {
      const { BATCH_FILE_LIMITS, batchApiToFile } = await import('./run-via-batch.js');
      const ran = await batchApiToFile(
        {
          input: settings.input,
          out: settings.out,
          lineMode,
          endpoint: settings.endpoint,
          engine: { ...engine, baseURL: simulator?.url ?? baseURL ?? '' },
          state: submitted,
          finishOnline: settings.finishOnline,
          pollIntervalMs: settings.pollIntervalMs,
          maxRounds: 3,
          limits: BATCH_FILE_LIMITS,
          discount: settings.batchDiscount,
          fsync: settings.fsync,
          clean,
          log: settings.progress ? say : () => {},
        },
        way.reason,
      );
      outcome = ran;
      via = ran.summary.via;
    } else outcome = await streamToFile({
      input: inputKind === 'stdin' ? process.stdin : settings.input,
      out: settings.out,
      engine: { ...engine, baseURL: simulator?.url ?? baseURL ?? '' },
      concurrency: checked.concurrency,
      checkpoint,
      // A task that builds its requests reads plain records; otherwise lines are requests.
      lineMode,
      endpoint: settings.endpoint,
      preserveOrder: settings.preserveOrder,
      fsync: settings.fsync,
      progress,
      progressIntervalMs: settings.progressIntervalMs,
      total: inputKind === 'file' ? scan.lines : null,
      clean,
      stderr: io.stderr,
      open,
      threads: threads ?? undefined,
    });
  } finally {
    await simulator?.close();
  }

  // 7. The report, starting with the run's end in the meta file: where it stopped, if it did.
  try {
    await writeRunEnd(metaPathFor(settings.out), outcome.end);
  } catch (error) {
    say(`cannot record the run's end in ${metaPathFor(settings.out)}: ${errorText(error)}`);
  }
  if (via === null && settings.via !== 'online') via = (await import('./run-via-batch.js')).onlineVia(way.reason, outcome.summary.cost, settings.engine.prices, settings.batchDiscount);
  io.stderr.write(`${clean(formatRunSummary(outcome.summary))}\n`);
  if (via !== null) io.stderr.write(`${clean(formatVia(via, formatCost, settings.batchDiscount))}\n`);
  if (settings.summary !== undefined) {
    try {
      await writeFile(settings.summary, clean(`${JSON.stringify({ ...outcome.summary, ...(via === null ? {} : { via }) }, null, 2)}\n`));
    } catch (error) {
      say(`cannot write the summary to ${settings.summary}: ${errorText(error)}`);
    }
  }
  if (outcome.writeError !== null) say(writeErrorText(settings.out, outcome.writeError));
  if (outcome.inputError !== null) {
    throw new UsageError(`cannot read the input file ${settings.input} (mid-run): ${errorText(outcome.inputError)}`);
  }
  return outcome.exitCode;
}

/** What the user is told when the results file could not be written (or, with --fsync, synced). */
function writeErrorText(out: string, { code, message, syscall }: NodeJS.ErrnoException): string {
  if (syscall === 'fsync') {
    return (
      `cannot sync ${out} to the disk (${code ?? 'error'}: ${message}): stopped. ` +
      'Its lines are whole and in the file, but --fsync could not make sure a power cut spares them. Run the same command with --resume to finish.'
    );
  }
  const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EFBIG' ? 'the file size limit (ulimit -f) is reached' : code === 'EDQUOT' ? 'the disk quota is used up' : message;
  return (
    `cannot write ${out} (${code ?? 'error'}: ${why}): stopped, cancelling the attempts on the wire. ` +
    'Every line in the file is whole and counts; the items without one run again. Make room, then run the same command with --resume to finish.'
  );
}
