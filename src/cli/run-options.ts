// `batch-llm run`'s options: declared once here (names, help text, documented defaults) and
// turned into checked settings. Defaults of the library's own options are not repeated as values:
// they are left undefined so that resolveOptions applies them; the help text states them, and a
// test checks that the two agree.

import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import type { PriceTable } from '../model/cost.js';
import type { ErrorCategory } from '../model/outcome.js';
import type { AbortMode } from '../control/stop.js';
import { decimal, duration, wholeNumber } from './parse-values.js';
import { UsageError } from '../model/errors.js';

export interface RunSettings {
  input: string;
  out: string;
  baseURL: string | undefined;
  apiKey: string | undefined;
  model: string | undefined;
  task: string | undefined;
  concurrency: number | undefined;
  threads: number | undefined;
  maxAttempts: number | undefined;
  maxRateLimitRetries: number | undefined;
  attemptTimeoutMs: number | undefined;
  itemDeadlineMs: number | undefined;
  deadlineMs: number | undefined;
  /** Categories that stop the run; undefined for the library's default. */
  failFast: ErrorCategory[] | undefined;
  abortMode: AbortMode | undefined;
  maxTokens: number | undefined;
  maxCost: number | undefined;
  threadMemoryMb: number | undefined;
  rpm: number | undefined;
  tpm: number | undefined;
  learnRateLimits: boolean;
  /** Prices per million tokens, for cost in progress and summary; undefined when none given. */
  prices: PriceTable | undefined;
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
  learnRateLimits: boolean;
  failFast?: string;
  abortMode?: string;
  maxTokens?: string;
  threadMemory?: string;
  maxCost?: string;
  priceInput?: string;
  priceOutput?: string;
  priceCached?: string;
  resume?: boolean;
  forceResume?: boolean;
  overwrite?: boolean;
  preserveOrder?: boolean;
  fsync?: boolean;
  progress: boolean;
  progressInterval?: string;
  summary?: string;
}

const DEFAULT_PROGRESS_INTERVAL = '5s';

export const EXIT_CODES_HELP = `
Exit codes:
  0  every item succeeded
  1  the run finished and some items failed (see the "error" of their lines)
  2  usage error, or the input file could not be read
  3  stopped early: Ctrl-C / SIGTERM, --deadline, --max-tokens / --max-cost, or a --fail-fast
     category (auth, quota); every unfinished item has an "aborted" line, and --resume finishes`;

const RUN_HELP_AFTER = `
Input lines (JSONL; blank lines are skipped; a line that cannot be run gets an invalid_input result):
  {"custom_id": "q1", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": [...]}}
  {"custom_id": "q2", "prompt": "Say hello"}       short form: one user message, model from --model
  {"custom_id": "r1", "any": "fields"}             plain records, with a --task that has buildRequest

Endpoint:
  With neither --base-url nor OPENAI_BASE_URL set, the run goes to the built-in simulator,
  started in-process on 127.0.0.1 (it says so on stderr). Any OpenAI-compatible server works:
  OpenAI, vLLM, llama.cpp server, Ollama (http://localhost:11434/v1), OpenRouter …

Stopping:
  The first Ctrl-C (or SIGTERM) drains: nothing new starts, attempts on the wire finish, and every
  unfinished item gets an "aborted" line. A second Ctrl-C cancels the attempts on the wire too;
  a third quits at once. Either way the results file stays resumable.

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
  return program
    .command('run')
    .description('run every request of a JSONL file and write one result line per item')
    .argument('<input>', 'JSONL file of requests (OpenAI Batch request lines, or {"custom_id","prompt"})')
    .requiredOption('-o, --out <file>', 'results file (JSONL, OpenAI Batch output lines; appended and flushed per item)')
    .option('--base-url <url>', 'OpenAI-compatible endpoint including /v1 (default: $OPENAI_BASE_URL, else the built-in simulator)')
    .option('--api-key <key>', 'API key (default: $OPENAI_API_KEY; prefer the variable, command lines are visible to others)')
    .option('--model <name>', 'model for requests that name none (default: none; "batch-llm-sim" on the built-in simulator)')
    .option('--task <file>', 'task module (.ts or .js, default export made by defineTask) that builds, validates and post-processes each item (default: none: bodies are sent as given)')
    .option('--concurrency <n>', 'items in progress at once (default: 64)')
    .option('--threads <n>', `worker threads (default: number of CPUs, here ${availableParallelism()})`)
    .option('--max-attempts <n>', 'attempts per item, not counting rate-limit retries (default: 5)')
    .option('--max-rate-limit-retries <n>', '429 retries per item, a budget of their own (default: 20)')
    .option('--attempt-timeout <duration>', 'time limit of one HTTP attempt: 500ms, 30s, 5m, 1h (default: 60s)')
    .option('--item-deadline <duration>', 'time limit of one item: waits, cooldowns, attempts, backoffs; then it fails as timeout (default: none)')
    .option('--deadline <duration>', 'time limit of the whole run; then unfinished items get aborted lines, exit 3 (default: none)')
    .option('--fail-fast <categories>', 'failure categories that stop the run, comma-separated, or "none" (default: auth,quota)')
    .option('--abort-mode <mode>', 'how a stopped run ends: drain (attempts on the wire finish) or cancel (they are aborted) (default: drain)')
    .option('--max-tokens <n>', 'stop starting items once the next would take the run past this many tokens (default: none)')
    .option('--max-cost <amount>', 'stop starting items once the next would take the run past this cost; needs --price-* (default: none)')
    .option('--thread-memory <MB>', 'heap limit of each worker thread; a thread that exceeds it is replaced and its items retried (default: Node\'s)')
    .option('--rpm <n>', 'requests per minute to stay under, paced by a shared budget so 429s stay rare (default: none)')
    .option('--tpm <n>', 'tokens per minute to stay under: prompt (tokenizer count) + max_tokens reserved per attempt (default: none)')
    .addOption(new Option('--no-learn-rate-limits', "don't tighten the budgets to the server's x-ratelimit-* headers (default: learn them)"))
    .option('--price-input <n>', 'price per million prompt tokens, for cost in progress and summary (default: none, no cost shown)')
    .option('--price-output <n>', 'price per million completion tokens (default: none; needed with --price-input)')
    .option('--price-cached <n>', 'price per million cached prompt tokens (default: --price-input)')
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

/** `auth,quota` → ['auth', 'quota']; `none` → []. The categories themselves are checked by resolveOptions. */
function parseFailFast(text: string | undefined): ErrorCategory[] | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === 'none') return [];
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) throw new UsageError(`--fail-fast: expected categories such as auth,quota (or none), got ${JSON.stringify(text)}`);
  // Unchecked here on purpose: the library validates categories and names the bad one.
  return names as ErrorCategory[];
}

function parseAbortMode(text: string | undefined): AbortMode | undefined {
  if (text === undefined || text === 'drain' || text === 'cancel') return text;
  throw new UsageError(`--abort-mode: expected drain or cancel, got ${JSON.stringify(text)}`);
}

/** The price table, when prices are given; input and output prices go together. */
function parsePrices(raw: RawRunOptions): PriceTable | undefined {
  const input = decimal('--price-input', raw.priceInput);
  const output = decimal('--price-output', raw.priceOutput);
  const cached = decimal('--price-cached', raw.priceCached);
  if (input === undefined && output === undefined && cached === undefined) return undefined;
  if (input === undefined || output === undefined) {
    throw new UsageError('--price-input and --price-output go together (prices per million tokens): give both');
  }
  return { inputPerMillion: input, outputPerMillion: output, ...(cached !== undefined ? { cachedInputPerMillion: cached } : {}) };
}

/** Checks the raw values; throws UsageError naming the option and the value. */
export function parseRunOptions(input: string, raw: RawRunOptions): RunSettings {
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
    task: raw.task,
    concurrency: wholeNumber('--concurrency', raw.concurrency),
    threads: wholeNumber('--threads', raw.threads),
    maxAttempts: wholeNumber('--max-attempts', raw.maxAttempts),
    maxRateLimitRetries: wholeNumber('--max-rate-limit-retries', raw.maxRateLimitRetries),
    attemptTimeoutMs: duration('--attempt-timeout', raw.attemptTimeout),
    itemDeadlineMs: duration('--item-deadline', raw.itemDeadline),
    deadlineMs: duration('--deadline', raw.deadline),
    failFast: parseFailFast(raw.failFast),
    abortMode: parseAbortMode(raw.abortMode),
    maxTokens: wholeNumber('--max-tokens', raw.maxTokens),
    threadMemoryMb: wholeNumber('--thread-memory', raw.threadMemory),
    maxCost: decimal('--max-cost', raw.maxCost),
    rpm: decimal('--rpm', raw.rpm),
    tpm: decimal('--tpm', raw.tpm),
    learnRateLimits: raw.learnRateLimits,
    prices: parsePrices(raw),
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
