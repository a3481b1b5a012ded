// `batch-llm run`: a JSONL file of requests in, a JSONL file of results out.
//
// Order of work: check every option (nothing is touched before that), load the task, scan the
// input (size, hash, line count), settle the results file (new, --overwrite, or --resume: prepare-output.ts), start the
// built-in simulator if no endpoint is configured, then stream (run-stream.ts) and report.

import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BUILTIN_SIMULATOR, endpointIdentity, hashFile, type RunFingerprint } from '../io/checkpoint.js';
import { scanInput, type InputScan } from '../io/input.js';
import { OptionsError } from '../model/errors.js';
import { resolveOptions, type BatchOptions } from '../run/options.js';
import type { ProgressMode } from './progress.js';
import { redact } from '../model/redact.js';
import { startSimulator, type Simulator } from '../sim/index.js';
import { loadTask } from '../task/task-loader.js';
import type { Task } from '../task/task.js';
import { prepareOutput } from './prepare-output.js';
import { FLAG_OF, type RunSettings } from './run-options.js';
import { streamToFile } from './run-stream.js';
import { formatRunSummary } from './run-summary.js';
import { UsageError } from '../model/errors.js';

export interface CliIO {
  env: NodeJS.ProcessEnv;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
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

/** A URL's password (https://user:pass@host) is a secret too. */
function urlPassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** Runs the command; resolves with the exit code. Throws UsageError for exit code 2. */
export async function runCommand(settings: RunSettings, io: CliIO): Promise<number> {
  const envURL = io.env['OPENAI_BASE_URL'];
  const baseURL = settings.engine.baseURL ?? (envURL === '' ? undefined : envURL);
  const embedded = baseURL === undefined;
  const apiKey = settings.engine.apiKey ?? io.env['OPENAI_API_KEY'];
  const model = settings.engine.model ?? (embedded ? SIMULATOR_MODEL : undefined);
  const secrets = [apiKey, urlPassword(baseURL)];
  const clean = (text: string): string => secrets.reduce<string>((out, secret) => redact(out, secret), text);
  const say = (message: string): void => void io.stderr.write(`batch-llm: ${clean(message)}\n`);

  // 1. Options, checked by the library itself so that the CLI cannot disagree with it. Every
  // option accepts undefined (the library's default), so the settings go over as they are.
  const engine: Omit<BatchOptions, 'items'> = { ...settings.engine, apiKey, model };
  let concurrency: number;
  try {
    concurrency = resolveOptions({ ...engine, items: [], baseURL: baseURL ?? 'http://127.0.0.1/v1' }, io.env).concurrency;
  } catch (error) {
    if (error instanceof OptionsError) throw new UsageError(clean(flagNames(error.message)));
    throw error;
  }
  if (settings.summary !== undefined) {
    // Found out now, not after hours of running.
    await access(dirname(resolve(settings.summary)), constants.W_OK).catch(() => {
      throw new UsageError(`--summary ${settings.summary}: its directory does not exist or is not writable`);
    });
  }
  if (resolve(settings.input) === resolve(settings.out)) {
    throw new UsageError(`--out ${settings.out} is the input file; write the results elsewhere`);
  }

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

  // 3. The input: readable, and what it is (for the fingerprint and the progress total).
  let scan: InputScan;
  try {
    scan = await scanInput(settings.input);
  } catch (error) {
    throw new UsageError(`cannot read the input file ${settings.input}: ${errorText(error)}`);
  }

  // 4. The results file.
  const fingerprint: RunFingerprint = {
    base_url: embedded ? BUILTIN_SIMULATOR : endpointIdentity(baseURL),
    model: model ?? null,
    task_sha256: taskHash,
    input: { path: resolve(settings.input), size: scan.size, sha256: scan.sha256 },
  };
  const checkpoint = await prepareOutput({ ...settings, fingerprint }, say);

  // 5. The endpoint.
  let simulator: Simulator | null = null;
  if (embedded) {
    simulator = await startSimulator({ host: '127.0.0.1', port: 0, recordRequests: false });
    say(`no endpoint configured (--base-url or OPENAI_BASE_URL): using the built-in simulator at ${simulator.url}`);
    if (apiKey !== undefined) say('an API key is set but no endpoint: for OpenAI itself pass --base-url https://api.openai.com/v1');
  }

  // 6. The run.
  const progress: ProgressMode = !settings.progress ? 'off' : io.stderr.isTTY === true ? 'bar' : 'lines';
  let outcome;
  try {
    outcome = await streamToFile({
      input: settings.input,
      out: settings.out,
      engine: { ...engine, baseURL: simulator?.url ?? baseURL ?? '' },
      concurrency,
      checkpoint,
      // A task that builds its requests reads plain records; otherwise lines are requests.
      lineMode: task?.buildRequest !== undefined ? 'records' : 'requests',
      preserveOrder: settings.preserveOrder,
      fsync: settings.fsync,
      progress,
      progressIntervalMs: settings.progressIntervalMs,
      total: scan.lines,
      clean,
      stderr: io.stderr,
    });
  } finally {
    await simulator?.close();
  }

  // 7. The report.
  io.stderr.write(`${clean(formatRunSummary(outcome.summary))}\n`);
  if (settings.summary !== undefined) {
    try {
      await writeFile(settings.summary, clean(`${JSON.stringify(outcome.summary, null, 2)}\n`));
    } catch (error) {
      say(`cannot write the summary to ${settings.summary}: ${errorText(error)}`);
    }
  }
  if (outcome.inputError !== null) {
    throw new UsageError(`cannot read the input file ${settings.input} (mid-run): ${errorText(outcome.inputError)}`);
  }
  return outcome.exitCode;
}
