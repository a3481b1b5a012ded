// `batch-llm run`'s options, spelled once: one table row per option holds its flag, help text,
// documented default and how its value is read. The same table declares the options to commander,
// reads commander's values into settings, hands the library its options, and names the flag in the
// library's error messages. Defaults of the library's own options are not repeated as values: they
// are left undefined so that resolveOptions applies them; the help text states them, and a test
// checks that the two agree.

import { availableParallelism } from 'node:os';
import { Command, Option, type OptionValues } from 'commander';
import type { PriceTable } from '../model/cost.js';
import type { ErrorCategory } from '../model/outcome.js';
import type { AbortMode } from '../control/stop.js';
import { DEFAULT_CONCURRENCY, type BatchOptions } from '../run/options.js';
import { threadsFor } from '../run/thread-count.js';
import { decimal, duration, wholeNumber } from './parse-values.js';
import { UsageError } from '../model/errors.js';
import { CACHE_MODES, type CacheMode } from '../cache/cache-mode.js';
import { VIAS, type Via } from '../batch-api/via-choice.js';
import { ENDPOINTS, ENDPOINT_URLS, type Endpoint } from '../model/endpoint.js';

/** One row of the table: the commander option(s) it declares and how their values are read. */
interface OptionRow<V> {
  options: Option[];
  read: (values: OptionValues) => V;
  /** Library option names (as in messages, e.g. `prices.inputPerMillion`) this row's flags stand for. */
  names?: Readonly<Record<string, string>>;
}

type RowValue<R> = R extends OptionRow<infer V> ? V : never;
type Values<T> = { [K in keyof T]: RowValue<T[K]> };

function describe(description: string, defaultText: string): string {
  return `${description} (default: ${defaultText})`;
}

/** The raw text of an option, or undefined when it was not given. */
function textOf(values: OptionValues, option: Option): string | undefined {
  const value: unknown = values[option.attributeName()];
  return typeof value === 'string' ? value : undefined;
}

/** An option with a value, read by `parse` (which receives the flag, for messages). */
function valued<V>(flags: string, description: string, defaultText: string, parse: (flag: string, text: string | undefined) => V): OptionRow<V> {
  const option = new Option(flags, describe(description, defaultText));
  return { options: [option], read: (values) => parse(option.long ?? flags, textOf(values, option)) };
}

const text = (flags: string, description: string, defaultText: string): OptionRow<string | undefined> =>
  valued(flags, description, defaultText, (_flag, value) => value);
const whole = (flags: string, description: string, defaultText: string): OptionRow<number | undefined> =>
  valued(flags, description, defaultText, wholeNumber);
const number = (flags: string, description: string, defaultText: string): OptionRow<number | undefined> =>
  valued(flags, description, defaultText, decimal);
const time = (flags: string, description: string, defaultText: string): OptionRow<number | undefined> =>
  valued(flags, description, defaultText, duration);

/** An option that must be given. */
function required(flags: string, description: string): OptionRow<string> {
  const option = new Option(flags, description).makeOptionMandatory();
  return { options: [option], read: (values) => String(values[option.attributeName()]) };
}

/** A switch that is off unless given. */
function toggle(flags: string, description: string): OptionRow<boolean> {
  const option = new Option(flags, describe(description, 'off'));
  return { options: [option], read: (values) => values[option.attributeName()] === true };
}

/** A `--no-…` switch: on unless negated. */
function negatable(flags: string, description: string, defaultText: string): OptionRow<boolean> {
  const option = new Option(flags, describe(description, defaultText));
  return { options: [option], read: (values) => values[option.attributeName()] !== false };
}

/** `auth,quota` → ['auth', 'quota']; `none` → []. The categories themselves are checked by resolveOptions. */
function parseFailFast(flag: string, value: string | undefined): ErrorCategory[] | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === 'none') return [];
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) throw new UsageError(`${flag}: expected categories such as auth,quota (or none), got ${JSON.stringify(value)}`);
  // Unchecked here on purpose: the library validates categories and names the bad one.
  return names as ErrorCategory[];
}

function parseCacheMode(flag: string, value: string | undefined): CacheMode | undefined {
  if (value === undefined || (CACHE_MODES as readonly string[]).includes(value)) return value as CacheMode | undefined;
  throw new UsageError(`${flag}: expected ${CACHE_MODES.join(', ')}, got ${JSON.stringify(value)}`);
}

function parseAbortMode(flag: string, value: string | undefined): AbortMode | undefined {
  if (value === undefined || value === 'drain' || value === 'cancel') return value;
  throw new UsageError(`${flag}: expected drain or cancel, got ${JSON.stringify(value)}`);
}

/** The price table, when prices are given; input and output prices go together. */
function prices(): OptionRow<PriceTable | undefined> {
  const input = new Option('--price-input <n>', describe('price per million prompt tokens, for cost in progress and summary', 'none, no cost shown'));
  const output = new Option('--price-output <n>', describe('price per million completion tokens', 'none; needed with --price-input'));
  const cached = new Option('--price-cached <n>', describe('price per million cached prompt tokens', '--price-input'));
  return {
    options: [input, output, cached],
    names: { prices: '--price-input/--price-output', 'prices.inputPerMillion': '--price-input', 'prices.outputPerMillion': '--price-output', 'prices.cachedInputPerMillion': '--price-cached' },
    read: (values) => {
      const inputPrice = decimal('--price-input', textOf(values, input));
      const outputPrice = decimal('--price-output', textOf(values, output));
      const cachedPrice = decimal('--price-cached', textOf(values, cached));
      if (inputPrice === undefined && outputPrice === undefined && cachedPrice === undefined) return undefined;
      if (inputPrice === undefined || outputPrice === undefined) {
        throw new UsageError('--price-input and --price-output go together (prices per million tokens): give both');
      }
      return { inputPerMillion: inputPrice, outputPerMillion: outputPrice, ...(cachedPrice !== undefined ? { cachedInputPerMillion: cachedPrice } : {}) };
    },
  };
}

/**
 * The run-wide token cap. It was called --max-tokens, easily mistaken for the request field
 * max_tokens (which caps one answer): that name stays as a deprecated alias.
 */
function runTokens(): OptionRow<number | undefined> {
  const cap = new Option(
    '--max-run-tokens <n>',
    describe('token cap of the whole run: each item reserves its prompt + max_tokens before it starts, and none starts that could cross the cap', 'none'),
  );
  const alias = new Option('--max-tokens <n>', describe('deprecated alias of --max-run-tokens (not the request field max_tokens)', 'none'));
  return {
    options: [cap, alias],
    read: (values) => {
      const given = textOf(values, cap);
      const old = textOf(values, alias);
      if (given !== undefined && old !== undefined) throw new UsageError('--max-tokens is the old name of --max-run-tokens: give one');
      return given !== undefined ? wholeNumber('--max-run-tokens', given) : wholeNumber('--max-tokens', old);
    },
  };
}

function parseEndpoint(flag: string, value: string | undefined): Endpoint {
  if (value === undefined) return 'chat';
  if ((ENDPOINTS as readonly string[]).includes(value)) return value as Endpoint;
  throw new UsageError(`${flag}: expected ${ENDPOINTS.join(', ')}, got ${JSON.stringify(value)}`);
}

function parseVia(flag: string, value: string | undefined): Via {
  if (value === undefined) return 'online';
  if ((VIAS as readonly string[]).includes(value)) return value as Via;
  throw new UsageError(`${flag}: expected ${VIAS.join(', ')}, got ${JSON.stringify(value)}`);
}

const DEFAULT_PROGRESS_INTERVAL = '5s';

/** The default of --threads as --help states it, with this machine's figures (the rule: run/thread-count.ts). */
export function threadsDefault(): string {
  const cores = availableParallelism();
  return `one per CPU with a --task that has postProcess or call (here ${threadsFor(true, cores)}), else CPUs - 1, at least 1 (here ${threadsFor(false, cores)})`;
}

/**
 * Options that are the library's own, keyed by their BatchOptions name: their values go to the
 * engine as they are (undefined = the library's default), and the library's messages name them.
 */
const ENGINE_OPTIONS = {
  baseURL: text('--base-url <url>', 'OpenAI-compatible endpoint including /v1', '$OPENAI_BASE_URL, else the built-in simulator'),
  apiKey: text('--api-key <key>', 'API key; prefer the variable, command lines are visible to others', '$OPENAI_API_KEY'),
  model: text('--model <name>', 'model for requests that name none', 'none; "batch-llm-sim" on the built-in simulator'),
  task: text('--task <file>', 'task module (.ts or .js, default export made by defineTask) that builds, validates and post-processes each item', 'none: bodies are sent as given'),
  concurrency: whole('--concurrency <n>', 'items in progress at once', String(DEFAULT_CONCURRENCY)),
  threads: whole('--threads <n>', 'worker threads', threadsDefault()),
  maxAttempts: whole('--max-attempts <n>', 'attempts per item, not counting rate-limit retries', '5'),
  maxRateLimitRetries: whole('--max-rate-limit-retries <n>', '429 retries per item, a budget of their own', '20'),
  attemptTimeoutMs: time(
    '--attempt-timeout <duration>',
    "time limit of one HTTP attempt: 500ms, 30s, 5m, 1h; time queued inside the server counts, and timeouts lower the in-flight ceiling",
    '60s',
  ),
  outagePatienceMs: time(
    '--outage-patience <duration>',
    'how long the endpoint may be down (refused connections, 502/503/504, timeouts) while one probe at a time waits for it; then the run stops, exit 3, --resume finishes',
    '10m',
  ),
  outageProbeMs: time('--outage-probe <duration>', 'first pause between probes of an endpoint that is down; it grows to half the outage so far, up to 30s', '1s'),
  itemDeadlineMs: time('--item-deadline <duration>', 'time limit of one item: waits, cooldowns, attempts, backoffs; then it fails as timeout', 'none'),
  deadlineMs: time('--deadline <duration>', 'time limit of the whole run; then it stops as on Ctrl-C (see Stopping), exit 3', 'none'),
  failFast: valued('--fail-fast <categories>', 'failure categories that stop the run, comma-separated, or "none"', 'auth,quota', parseFailFast),
  abortMode: valued('--abort-mode <mode>', 'how a stopped run ends: drain (attempts on the wire finish) or cancel (they are aborted)', 'drain', parseAbortMode),
  maxTokens: runTokens(),
  maxCost: number('--max-cost <amount>', 'cost cap of the whole run, reserved per item like --max-run-tokens (priced); needs --price-*', 'none'),
  maxResponseBytes: whole('--max-response-bytes <n>', 'largest answer read; a larger one fails its item as bad_request (response_too_large)', '16777216 (16 MiB)'),
  threadMemoryMb: whole('--thread-memory <MB>', 'heap limit of each worker thread; a thread that exceeds it is replaced and its items retried', "Node's"),
  rpm: number('--rpm <n>', 'requests per minute to stay under, paced by a shared budget so 429s stay rare', 'none'),
  tpm: number('--tpm <n>', 'tokens per minute to stay under: prompt (tokenizer count) + max_tokens reserved per attempt', 'none'),
  learnRateLimits: negatable('--no-learn-rate-limits', "don't tighten the budgets to the server's x-ratelimit-* headers", 'learn them'),
  prices: prices(),
  cache: text('--cache <dir>', 'response cache directory (LMDB, shared by runs and processes): answered requests are not sent again', 'none'),
  cacheMode: valued('--cache-mode <mode>', 'read-write, read-only (store nothing) or refresh (send every request again, overwrite)', 'read-write', parseCacheMode),
  trace: text('--trace <file>', 'write every run event (cooldowns, 429s, ramp, samples) to this JSONL file, for `batch-llm report --trace`', 'none'),
  groupBy: text('--group-by <field>', "input record field the summary groups the task's scores by (task.score)", 'none'),
  sampleIntervalMs: time('--sample-interval <duration>', 'how often the time series (done, in flight, limit, 429s, tokens) is sampled into the trace and summary', '1s'),
} satisfies { [K in keyof BatchOptions]?: OptionRow<BatchOptions[K]> };

/** Options of the command line itself. */
const CLI_OPTIONS = {
  out: required('-o, --out <file>', 'results file (JSONL, OpenAI Batch output lines; appended and flushed per item)'),
  resume: toggle('--resume', 'continue the run in --out: skip items that succeeded, re-run failed ones'),
  forceResume: toggle('--force-resume', 'resume even if endpoint, model, task or input changed since the run began'),
  endpoint: valued(
    '--endpoint <name>',
    `endpoint of lines that name no "url" (short-form lines, lines without "url", task records): ${ENDPOINTS.map((e) => `${e} (${ENDPOINT_URLS[e]})`).join(', ')}`,
    'chat',
    parseEndpoint,
  ),
  overwrite: toggle('--overwrite', 'start over, replacing a non-empty --out (off: refuse)'),
  preserveOrder: toggle('--preserve-order', 'write results in input order, with bounded buffering (off: completion order)'),
  fsync: toggle('--fsync', 'fsync the results file as lines are written (group commits, off the event loop), for power-loss safety'),
  progress: negatable('--no-progress', 'no progress display', 'a live bar on a terminal, else a line every --progress-interval'),
  progressIntervalMs: valued('--progress-interval <duration>', 'how often to print a progress line when not on a terminal', DEFAULT_PROGRESS_INTERVAL, (flag, value) => {
    const ms = duration(flag, value ?? DEFAULT_PROGRESS_INTERVAL) ?? 5_000;
    if (ms <= 0) throw new UsageError(`${flag}: expected a duration > 0, got ${JSON.stringify(value)}`);
    return ms;
  }),
  summary: text('--summary <file>', 'also write the end-of-run summary as JSON to this file', 'none'),
  via: valued('--via <way>', "online; batch-api: the provider's Batch API (uploaded files, 24 h window, discounted); auto: batch-api unless --deadline is under 24 h", 'online', parseVia),
  finishOnline: toggle('--finish-online', 'with the Batch API: run lines it could not answer (expired, 5xx, 429) online instead of resubmitting them'),
  pollIntervalMs: valued('--poll-interval <duration>', 'with the Batch API: how often to look at the batches in progress', '30s', (flag, value) => {
    const ms = duration(flag, value ?? '30s') ?? 30_000;
    if (ms <= 0) throw new UsageError(`${flag}: expected a duration > 0, got ${JSON.stringify(value)}`);
    return ms;
  }),
  batchDiscount: valued('--batch-discount <share>', "share of the online price the Batch API charges, for the cost comparison", '0.5', (flag, value) => {
    const share = decimal(flag, value) ?? 0.5;
    if (!(share > 0 && share <= 1)) throw new UsageError(`${flag}: expected a share in (0, 1], got ${JSON.stringify(value)}`);
    return share;
  }),
  redis: text('--redis <url>', 'coordinate a run across processes and machines through this Redis (redis://, rediss://, unix://); workers join with `batch-llm worker`', 'none: this process alone'),
  runId: text('--run-id <id>', 'the distributed run\'s name in Redis, for `batch-llm worker --run-id`', 'from the input\'s SHA-256 and --out'),
  chunkSize: whole('--chunk-size <n>', 'input lines per chunk job of a distributed run', '256'),
  localWork: negatable('--no-local-work', 'with --redis: only coordinate, leave the items to the workers', 'work items here too'),
};

/** The library's options as given on the command line (undefined: not given, the library's default). */
export type EngineSettings = Values<typeof ENGINE_OPTIONS>;

export type RunSettings = Values<typeof CLI_OPTIONS> & {
  input: string;
  engine: EngineSettings;
};

/** Every row, the command line's own first, in the order --help lists them. */
const ROWS: ReadonlyArray<OptionRow<unknown>> = [CLI_OPTIONS.out, ...Object.values(ENGINE_OPTIONS), ...Object.values(CLI_OPTIONS).slice(1)];

/** The flag for each library option name, for the library's messages (`maxAttempts` → `--max-attempts`). */
export const FLAG_OF: ReadonlyMap<string, string> = new Map(
  Object.entries(ENGINE_OPTIONS).flatMap(([name, row]: [string, OptionRow<unknown>]) => [
    ...(row.options[0]?.long !== undefined ? [[name, row.options[0].long] as const] : []),
    ...Object.entries(row.names ?? {}),
  ]),
);

function readRows<T extends Record<string, OptionRow<unknown>>>(rows: T, values: OptionValues): Values<T> {
  const read: Partial<Record<keyof T, unknown>> = {};
  for (const key of Object.keys(rows) as Array<keyof T>) read[key] = rows[key]?.read(values);
  return read as Values<T>;
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  every item succeeded
  1  the run finished and some items failed (see the "error" of their lines)
  2  usage error, or the input file could not be read
  3  stopped early: Ctrl-C / SIGTERM, --deadline, --max-run-tokens / --max-cost, a --fail-fast
     category (auth, quota), or an endpoint down for longer than --outage-patience; the items it
     held have "aborted" lines, the input lines it never read are recorded as not started in
     <out>.meta.json, and --resume finishes both`;

const RUN_HELP_AFTER = `
Input lines (JSONL; blank lines are skipped; a line that cannot be run gets an invalid_input result):
  {"custom_id": "q1", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": [...]}}
  {"custom_id": "q2", "prompt": "Say hello", "max_tokens": 64}
                                                   short form: one user message, model from --model;
                                                   chat body fields (max_tokens, temperature …) go
                                                   along, unknown keys and "stream": true are refused
  {"custom_id": "e1", "method": "POST", "url": "/v1/embeddings", "body": {"input": "a text"}}
                                                   "url" is one of /v1/chat/completions (the default),
                                                   /v1/completions, /v1/embeddings, /v1/responses;
                                                   one file may mix them; any other is invalid_input
  {"custom_id": "e2", "prompt": "a text"}          with --endpoint embeddings: {"input": "a text"};
                                                   completions: {"prompt"}; responses: {"input"},
                                                   each with its own body fields (dimensions,
                                                   max_output_tokens …)
  {"custom_id": "r1", "any": "fields"}             plain records, with a --task that has buildRequest

Endpoint:
  With neither --base-url nor OPENAI_BASE_URL set, the run goes to the built-in simulator,
  started in-process on 127.0.0.1 (it says so on stderr). Any OpenAI-compatible server works:
  OpenAI, vLLM, llama.cpp server, Ollama (http://localhost:11434/v1), OpenRouter …

Stopping:
  The first Ctrl-C (or SIGTERM, or SIGHUP) drains: nothing new starts, attempts on the wire finish,
  items waiting (at most --concurrency) get "aborted" lines, and the input is read no further:
  <out>.meta.json records the last line read and how many input lines have no line yet (not
  started; the summary counts them too). A second Ctrl-C cancels the attempts on the wire too
  (they get "aborted" lines); a third quits at once. Either way the results file stays resumable.

Resume:
  --out doubles as the checkpoint. After an interrupted run (even kill -9), run the same command
  with --resume: items whose last line succeeded are skipped, failed and aborted ones run again,
  and so do input lines with no line yet (not started); new lines are appended. A torn last line is moved to <out>.torn-<time> first. The run's fingerprint
  (endpoint, model, task, input file size and SHA-256) is kept in <out>.meta.json; resuming with
  a different one is refused unless --force-resume.

Refused before the first request (exit 2):
  --out, its meta file or --summary being the input or one another under another name (compared
  by device and inode: a symlink or hard link to the input would destroy it); an output that
  cannot be written (missing directory, no permission, a directory in its place); a second run on
  one results file (<out>.lock names the other's pid; a lock left by a killed run is taken over);
  --resume with input from a pipe ("-", /dev/stdin, a FIFO: read once, so it cannot be resumed);
  a --base-url that is not a URL (every request would fail).
${EXIT_CODES_HELP}

Examples:
  batch-llm run examples/requests.jsonl -o results.jsonl
  OPENAI_API_KEY=sk-... batch-llm run in.jsonl -o out.jsonl --base-url https://api.openai.com/v1 --model gpt-4o-mini
  batch-llm run in.jsonl -o out.jsonl --resume`;

/** Declares `run` on `program`; `action` receives the checked settings. */
export function declareRunCommand(program: Command, action: (settings: RunSettings) => Promise<void>): Command {
  const command = program
    .command('run')
    .description('run every request of a JSONL file and write one result line per item')
    .argument('<input>', 'JSONL file of requests (OpenAI Batch request lines, or {"custom_id","prompt"}); "-" reads stdin');
  for (const row of ROWS) for (const option of row.options) command.addOption(option);
  return command.addHelpText('after', RUN_HELP_AFTER).action(async (input: string, values: OptionValues) => {
    await action(parseRunOptions(input, values));
  });
}

/** Checks the values commander read; throws UsageError naming the option and the value. */
export function parseRunOptions(input: string, values: OptionValues): RunSettings {
  const settings: RunSettings = { input, ...readRows(CLI_OPTIONS, values), engine: readRows(ENGINE_OPTIONS, values) };
  if (settings.resume && settings.overwrite) throw new UsageError('--resume and --overwrite contradict each other: use one');
  if (settings.forceResume && !settings.resume) throw new UsageError('--force-resume goes with --resume');
  if (settings.finishOnline && settings.via === 'online') throw new UsageError('--finish-online goes with --via batch-api or auto');
  return settings;
}
