// `batch-llm run`'s options: declared once here (names, help text, documented defaults) and
// turned into checked settings. Defaults of the library's own options are not repeated as values:
// they are left undefined so that resolveOptions applies them; the help text states them, and a
// test checks that the two agree.

import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { duration, wholeNumber } from './parse-values.js';
import { UsageError } from './usage-error.js';

export interface RunSettings {
  input: string;
  out: string;
  baseURL: string | undefined;
  apiKey: string | undefined;
  model: string | undefined;
  concurrency: number | undefined;
  threads: number | undefined;
  maxAttempts: number | undefined;
  maxRateLimitRetries: number | undefined;
  attemptTimeoutMs: number | undefined;
  resume: boolean;
  forceResume: boolean;
  overwrite: boolean;
  preserveOrder: boolean;
  fsync: boolean;
  progress: boolean;
  progressIntervalMs: number;
  summary: string | undefined;
}

/** What commander hands over: every value as typed. */
interface RawRunOptions {
  out: string;
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  task?: string;
  concurrency?: string;
  threads?: string;
  maxAttempts?: string;
  maxRateLimitRetries?: string;
  attemptTimeout?: string;
  itemDeadline?: string;
  deadline?: string;
  rpm?: string;
  tpm?: string;
  resume?: boolean;
  forceResume?: boolean;
  overwrite?: boolean;
  preserveOrder?: boolean;
  fsync?: boolean;
  progress: boolean;
  progressInterval?: string;
  summary?: string;
}

/** Options accepted and documented now, implemented by later work: refused, never ignored. */
const COMING: ReadonlyArray<{ key: keyof RawRunOptions; flag: string; what: string }> = [
  { key: 'task', flag: '--task', what: 'task modules' },
  { key: 'itemDeadline', flag: '--item-deadline', what: 'deadlines' },
  { key: 'deadline', flag: '--deadline', what: 'deadlines' },
  { key: 'rpm', flag: '--rpm', what: 'proactive rate limits' },
  { key: 'tpm', flag: '--tpm', what: 'proactive rate limits' },
];

const DEFAULT_PROGRESS_INTERVAL = '5s';

export const EXIT_CODES_HELP = `
Exit codes:
  0  every item succeeded
  1  the run finished and some items failed (see the "error" of their lines)
  2  usage error, or the input file could not be read
  3  stopped early (Ctrl-C / SIGTERM, or an auth or quota error stopped the batch)`;

const RUN_HELP_AFTER = `
Endpoint:
  With neither --base-url nor OPENAI_BASE_URL set, the run goes to the built-in simulator,
  started in-process on 127.0.0.1 (it says so on stderr). Any OpenAI-compatible server works:
  OpenAI, vLLM, llama.cpp server, Ollama (http://localhost:11434/v1), OpenRouter …

Resume:
  --out doubles as the checkpoint. After an interrupted run (even kill -9), run the same command
  with --resume: items whose last line succeeded are skipped, failed ones run again, new lines
  are appended. A torn last line is moved to <out>.torn-<time> first. The run's fingerprint
  (endpoint, model, task, input file size and SHA-256) is kept in <out>.meta.json; resuming with
  a different one is refused unless --force-resume.
${EXIT_CODES_HELP}

Examples:
  batch-llm run examples/requests.jsonl -o results.jsonl
  OPENAI_API_KEY=sk-... batch-llm run in.jsonl -o out.jsonl --base-url https://api.openai.com/v1 --model gpt-4o-mini
  batch-llm run in.jsonl -o out.jsonl --resume`;

/** Declares `run` on `program`; `action` receives the checked settings. */
export function declareRunCommand(program: Command, action: (settings: RunSettings) => Promise<void>): Command {
  const coming = ' (coming: not implemented yet; refused if given)';
  return program
    .command('run')
    .description('run every request of a JSONL file and write one result line per item')
    .argument('<input>', 'JSONL file of requests (OpenAI Batch request lines, or {"custom_id","prompt"})')
    .requiredOption('-o, --out <file>', 'results file (JSONL, OpenAI Batch output lines; appended and flushed per item)')
    .option('--base-url <url>', 'OpenAI-compatible endpoint including /v1 (default: $OPENAI_BASE_URL, else the built-in simulator)')
    .option('--api-key <key>', 'API key (default: $OPENAI_API_KEY; prefer the variable, command lines are visible to others)')
    .option('--model <name>', 'model for requests that name none (default: none; "batch-llm-sim" on the built-in simulator)')
    .option('--task <file>', `task module that builds, parses and validates each request${coming}`)
    .option('--concurrency <n>', 'items in progress at once (default: 64)')
    .option('--threads <n>', `worker threads (default: number of CPUs, here ${availableParallelism()})`)
    .option('--max-attempts <n>', 'attempts per item, not counting rate-limit retries (default: 5)')
    .option('--max-rate-limit-retries <n>', '429 retries per item, a budget of their own (default: 20)')
    .option('--attempt-timeout <duration>', 'time limit of one HTTP attempt: 500ms, 30s, 5m, 1h (default: 60s)')
    .option('--item-deadline <duration>', `time limit of one item over all its attempts${coming}`)
    .option('--deadline <duration>', `time limit of the whole run${coming}`)
    .option('--rpm <n>', `requests per minute to stay under${coming}`)
    .option('--tpm <n>', `tokens per minute to stay under${coming}`)
    .option('--resume', 'continue the run in --out: skip items that succeeded, re-run failed ones (default: off)')
    .option('--force-resume', 'resume even if endpoint, model, task or input changed since the run began (default: off)')
    .option('--overwrite', 'start over, replacing a non-empty --out (default: off: refuse)')
    .option('--preserve-order', 'write results in input order, with bounded buffering (default: off: completion order)')
    .option('--fsync', 'fsync the results file after every line, for power-loss safety (default: off)')
    .addOption(new Option('--no-progress', 'no progress display (default: a live bar on a terminal, else a line every --progress-interval)'))
    .option('--progress-interval <duration>', `how often to print a progress line when not on a terminal (default: ${DEFAULT_PROGRESS_INTERVAL})`)
    .option('--summary <file>', 'also write the end-of-run summary as JSON to this file (default: none)')
    .addHelpText('after', RUN_HELP_AFTER)
    .action(async (input: string, raw: RawRunOptions) => {
      await action(parseRunOptions(input, raw));
    });
}

/** Checks the raw values; throws UsageError naming the option and the value. */
export function parseRunOptions(input: string, raw: RawRunOptions): RunSettings {
  for (const { key, flag, what } of COMING) {
    if (raw[key] !== undefined) {
      throw new UsageError(`${flag} is not implemented yet (${what} are coming in a later version); remove it to run`);
    }
  }
  if (raw.resume === true && raw.overwrite === true) {
    throw new UsageError('--resume and --overwrite contradict each other: use one');
  }
  if (raw.forceResume === true && raw.resume !== true) {
    throw new UsageError('--force-resume goes with --resume');
  }
  const progressIntervalMs = duration('--progress-interval', raw.progressInterval ?? DEFAULT_PROGRESS_INTERVAL) ?? 5_000;
  if (progressIntervalMs <= 0) throw new UsageError(`--progress-interval: expected a duration > 0, got ${JSON.stringify(raw.progressInterval)}`);
  return {
    input,
    out: raw.out,
    baseURL: raw.baseUrl,
    apiKey: raw.apiKey,
    model: raw.model,
    concurrency: wholeNumber('--concurrency', raw.concurrency),
    threads: wholeNumber('--threads', raw.threads),
    maxAttempts: wholeNumber('--max-attempts', raw.maxAttempts),
    maxRateLimitRetries: wholeNumber('--max-rate-limit-retries', raw.maxRateLimitRetries),
    attemptTimeoutMs: duration('--attempt-timeout', raw.attemptTimeout),
    resume: raw.resume === true,
    forceResume: raw.forceResume === true,
    overwrite: raw.overwrite === true,
    preserveOrder: raw.preserveOrder === true,
    fsync: raw.fsync === true,
    progress: raw.progress,
    progressIntervalMs,
    summary: raw.summary,
  };
}
