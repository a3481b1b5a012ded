/**
 * Options of the built-in simulator. This file is the reference: every option states its default and
 * its unit. `resolveSimOptions` validates them at the public edge and merges defaults field by field
 * (`??`, never a spread, so an explicit `undefined` keeps the default).
 */

import type { SimBatchOptions } from './batch-options.js';
import { isRecord } from '../model/records.js';

/** Which header a 429 uses to tell the client how long to pause. */
export type RateLimitHintHeader =
  /** `retry-after-ms: <ms>` (OpenAI's own header). */
  | 'retry-after-ms'
  /** `retry-after: <seconds>`, integer seconds rounded up. */
  | 'retry-after'
  /** `retry-after: <HTTP-date>`, rounded up to the next whole second so the pause is never shorter than `ms`. */
  | 'retry-after-date'
  /** `x-ratelimit-reset-requests` in OpenAI's duration format (`250ms`, `1s`, `1.5s`, `6m0s`). */
  | 'x-ratelimit-reset-requests'
  /** `x-ratelimit-reset-tokens`, same format. */
  | 'x-ratelimit-reset-tokens'
  /** No hint at all: the client must fall back to its own default pause. */
  | 'none';

/** How a 429 tells the client when to come back. */
export interface RateLimitHint {
  header: RateLimitHintHeader;
  /** The pause, in milliseconds. Minimum: 0. */
  ms: number;
}

/**
 * A storm that holds every request arriving while it is active until `holdUntilInFlight` requests are
 * held, then answers all of them 429 at once (each after its latency). "All requests in flight hit 429
 * at once" thus happens deterministically, however slowly the client's threads start.
 * A held request whose client goes away stops counting toward the storm.
 */
export interface HoldStormSpec {
  /** Number of requests to hold before answering them all 429. Integer, minimum: 1. */
  holdUntilInFlight: number;
  /** @default the simulator's `rateLimitHint` */
  hint?: RateLimitHint | undefined;
}

/**
 * A storm that answers 429 (or `status`) to every request arriving within `windowMs` of the storm's
 * first request. With a 5xx status it is an outage of that length, as a restarting server or an
 * overloaded gateway answers.
 */
export interface WindowStormSpec {
  /** Length of the storm, in milliseconds, counted from its first request. Minimum: > 0. */
  windowMs: number;
  /** The status every request gets: 429, or 500, 502, 503, 504. @default 429 */
  status?: 429 | 500 | 502 | 503 | 504 | undefined;
  /** @default the simulator's `rateLimitHint` for a 429, none for a 5xx */
  hint?: RateLimitHint | undefined;
}

/**
 * A lull between storms: the next `passRequests` requests are not touched by storms (they go on to
 * the usual checks, and succeed unless something else fails them), then the next storm starts. Lets
 * a test put answers between bursts, as a real endpoint does between its bad moments.
 */
export interface LullSpec {
  /** Number of requests to let through. Integer, minimum: 1. */
  passRequests: number;
}

/**
 * A rate-limit storm. Storms are consumed in order: a storm starts at the first request that arrives
 * after the previous storm ended (the first storm at the first request).
 */
export type StormSpec = HoldStormSpec | WindowStormSpec | LullSpec;

/** One step of a per-key script, in object form. */
export interface ScriptStepSpec {
  /**
   * HTTP status to answer. 200 answers a normal completion.
   * @default 429 when `code` is `"insufficient_quota"` or `hint` is given, else 200
   */
  status?: number | undefined;
  /** `error.code` in the error body, e.g. `"insufficient_quota"`. @default the usual code for the status */
  code?: string | undefined;
  /** Delay before answering (or resetting), in milliseconds; replaces `latencyMs` and jitter for this step. */
  delayMs?: number | undefined;
  /** Pause hint for a 429 step. @default the simulator's `rateLimitHint` (none for `insufficient_quota`) */
  hint?: RateLimitHint | undefined;
  /** `'reset'`: destroy the connection without answering. `'hang'`: never answer. */
  kind?: 'reset' | 'hang' | undefined;
  /**
   * For a 200 step of a JSON-mode request: answer text that is not JSON (`'invalid_json'`) or JSON that
   * violates the requested schema (`'schema_violation'`). Lets a test script re-asks exactly.
   * For any request, `'malformed'`: a 200 that is not a result of its endpoint (the `choices`,
   * `data` or `output` array empty), as a broken proxy answers.
   * @default a correct answer
   */
  output?: ScriptedOutput | undefined;
}

/** A deliberately broken answer a script step can ask for. */
export type ScriptedOutput = 'invalid_json' | 'schema_violation' | 'malformed';

/** A script step: a bare HTTP status (200, 429, 500, 503, 400, 401, 402, 404 …) or a full step. */
export type ScriptStep = number | ScriptStepSpec;

/**
 * Probabilities of random faults, each in [0, 1], their sum at most 1 (the outcomes are exclusive).
 * Decided per request by the seeded generator.
 */
export interface FaultRates {
  /** Answer 500 `server_error`. @default 0 */
  error500?: number | undefined;
  /** Answer 503 (overloaded). @default 0 */
  error503?: number | undefined;
  /** Destroy the connection without answering. @default 0 */
  reset?: number | undefined;
  /** Never answer (until the client gives up or the simulator closes). @default 0 */
  hang?: number | undefined;
}

/** Injected faults. */
export interface FaultOptions {
  /** Rate-limit storms, consumed in order. @default [] */
  storms?: readonly StormSpec[] | undefined;
  /**
   * Per-key scripts. The key is the content of a request's last user message. The n-th request with a
   * key plays step n; once the steps are played out, every further request with that key succeeds.
   * A scripted key is fully scripted: its requests never start or join a storm, never meet random
   * faults, and are neither checked against nor counted in the RPM/TPM windows — so a test knows
   * exactly what each of its attempts will see.
   * @default {}
   */
  scripts?: Readonly<Record<string, readonly ScriptStep[]>> | undefined;
  /** Random fault probabilities. @default all 0 */
  rates?: FaultRates | undefined;
}

/** Options of `startSimulator`. Every field may be omitted or `undefined` for its default. */
export interface SimOptions {
  /** Interface to bind. @default "127.0.0.1" */
  host?: string | undefined;
  /** TCP port; 0 picks a free one. Integer 0–65535. @default 0 */
  port?: number | undefined;
  /**
   * Time from receiving a request to answering it, in milliseconds: successes, 429s and injected errors
   * alike (400/401/404 go out at once). Minimum: 0. @default 0
   */
  latencyMs?: number | undefined;
  /** Extra latency drawn uniformly from [0, latencyJitterMs), in milliseconds. Minimum: 0. @default 0 */
  latencyJitterMs?: number | undefined;
  /** Completion tokens of a successful answer (capped by the request's `max_tokens`). Integer, minimum: 0. @default 16 */
  completionTokens?: number | undefined;
  /**
   * Components of each vector `/v1/embeddings` answers with, unless the request sets `dimensions`
   * (text-embedding-3-small has 1536; the default keeps the built-in simulator's answers small).
   * Integer, minimum: 1. @default 256
   */
  embeddingDimensions?: number | undefined;
  /** Seed of the generator behind every random decision. Integer. @default 1 */
  seed?: number | undefined;
  /** Model id listed by `GET /v1/models` (completions echo the requested model). @default "batch-llm-sim" */
  model?: string | undefined;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`, else 401. The key is never echoed. @default unset */
  apiKey?: string | undefined;
  /**
   * Requests per minute. Enforced over a sliding window of `rateWindowMs` with a budget of
   * `rpm × rateWindowMs / 60000` requests; a request beyond it gets 429 with `retry-after-ms`.
   * Minimum: > 0. @default unlimited
   */
  rpm?: number | undefined;
  /**
   * Tokens per minute, same window. A request costs its prompt estimate plus `max_tokens`
   * (or `max_completion_tokens`, else `completionTokens`). Minimum: > 0. @default unlimited
   */
  tpm?: number | undefined;
  /** Length of the RPM/TPM sliding window, in milliseconds; short windows make tests fast. Minimum: > 0. @default 60000 */
  rateWindowMs?: number | undefined;
  /**
   * Answers generated at once, as a local server's slots (llama.cpp `--parallel 4`): a successful
   * request beyond them waits its turn in a first-come queue, and its latency starts only once it
   * has a slot — so time queued counts against the client's timeout. Integer, minimum: 1.
   * @default unlimited
   */
  slots?: number | undefined;
  /** Probability in [0, 1] that a JSON-mode answer is not JSON at all. @default 0 */
  invalidJsonRate?: number | undefined;
  /** Probability in [0, 1] that a JSON-mode answer is valid JSON that violates the schema. @default 0 */
  schemaViolationRate?: number | undefined;
  /** Pause hint of 429s from storms and scripts that name none. @default { header: "retry-after-ms", ms: 1000 } */
  rateLimitHint?: RateLimitHint | undefined;
  /** Injected faults. @default none */
  faults?: FaultOptions | undefined;
  /**
   * Keep a `SimRequestRecord` per request in `Simulator.requests`. Turn off for long-running servers
   * (the records grow without bound); `Simulator.stats` is kept either way. @default true
   */
  recordRequests?: boolean | undefined;
  /** The Batch API (`/v1/files`, `/v1/batches`): processing time, expiring and failing lines. @default see SimBatchOptions */
  batch?: SimBatchOptions | undefined;
}

/** A script step after validation: what to do, with defaults applied. */
export type ScriptAction =
  | { readonly kind: 'success'; readonly delayMs: number | undefined; readonly output: ScriptedOutput | undefined }
  | {
      readonly kind: 'error';
      readonly status: number;
      readonly code: string | undefined;
      readonly delayMs: number | undefined;
      readonly hint: RateLimitHint | undefined;
    }
  | { readonly kind: 'reset'; readonly delayMs: number | undefined }
  | { readonly kind: 'hang' };

/** Storms after validation, every hint filled in. */
export type ResolvedStorm =
  | { readonly kind: 'hold'; readonly holdUntilInFlight: number; readonly hint: RateLimitHint }
  | { readonly kind: 'window'; readonly windowMs: number; readonly status: number; readonly hint: RateLimitHint | undefined }
  | { readonly kind: 'lull'; readonly passRequests: number };

export interface ResolvedFaultRates {
  readonly error500: number;
  readonly error503: number;
  readonly reset: number;
  readonly hang: number;
}

export interface ResolvedSimOptions {
  readonly host: string;
  readonly port: number;
  readonly latencyMs: number;
  readonly latencyJitterMs: number;
  readonly completionTokens: number;
  readonly embeddingDimensions: number;
  readonly seed: number;
  readonly model: string;
  readonly apiKey: string | undefined;
  readonly rpm: number | undefined;
  readonly tpm: number | undefined;
  readonly rateWindowMs: number;
  readonly slots: number | undefined;
  readonly invalidJsonRate: number;
  readonly schemaViolationRate: number;
  readonly rateLimitHint: RateLimitHint;
  readonly storms: readonly ResolvedStorm[];
  readonly scripts: ReadonlyMap<string, readonly ScriptAction[]>;
  readonly rates: ResolvedFaultRates;
  readonly recordRequests: boolean;
}

/** The documented defaults, in one place. */
export const SIM_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  latencyMs: 0,
  latencyJitterMs: 0,
  completionTokens: 16,
  embeddingDimensions: 256,
  seed: 1,
  model: 'batch-llm-sim',
  rateWindowMs: 60_000,
  invalidJsonRate: 0,
  schemaViolationRate: 0,
  rateLimitHint: { header: 'retry-after-ms', ms: 1000 },
  recordRequests: true,
} as const satisfies Partial<ResolvedSimOptions>;

const HINT_HEADERS: readonly RateLimitHintHeader[] = [
  'retry-after-ms',
  'retry-after',
  'retry-after-date',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'none',
];

function describe(value: unknown): string {
  let shown: string;
  try {
    shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    shown = String(value);
  }
  return `\`${shown}\` (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
}

function fail(name: string, expected: string, value: unknown): never {
  throw new TypeError(`Expected \`${name}\` to be ${expected}, got ${describe(value)}`);
}

interface NumberRule {
  min?: number;
  /** `min` itself is not allowed. */
  exclusiveMin?: boolean;
  max?: number;
  integer?: boolean;
}

function checkNumber(name: string, value: unknown, rule: NumberRule): number {
  const kind = rule.integer === true ? 'an integer' : 'a finite number';
  const bounds = [
    rule.min === undefined ? '' : `${rule.exclusiveMin === true ? '>' : '>='} ${rule.min}`,
    rule.max === undefined ? '' : `<= ${rule.max}`,
  ]
    .filter((part) => part !== '')
    .join(' and ');
  const expected = bounds === '' ? kind : `${kind} ${bounds}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(name, expected, value);
  if (rule.integer === true && !Number.isInteger(value)) fail(name, expected, value);
  if (rule.min !== undefined && (rule.exclusiveMin === true ? value <= rule.min : value < rule.min)) {
    fail(name, expected, value);
  }
  if (rule.max !== undefined && value > rule.max) fail(name, expected, value);
  return value;
}

function optionalNumber(name: string, value: unknown, rule: NumberRule): number | undefined {
  return value === undefined ? undefined : checkNumber(name, value, rule);
}

function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string') fail(name, 'a string', value);
  return value;
}

function checkHint(name: string, value: unknown): RateLimitHint {
  if (!isRecord(value)) fail(name, 'an object { header, ms }', value);
  const header = value['header'];
  if (typeof header !== 'string' || !HINT_HEADERS.includes(header as RateLimitHintHeader)) {
    fail(`${name}.header`, `one of ${HINT_HEADERS.join(', ')}`, header);
  }
  return { header: header as RateLimitHintHeader, ms: checkNumber(`${name}.ms`, value['ms'], { min: 0 }) };
}

function resolveStorm(name: string, value: unknown, defaultHint: RateLimitHint): ResolvedStorm {
  if (!isRecord(value)) fail(name, 'an object { holdUntilInFlight }, { windowMs } or { passRequests }', value);
  if (value['passRequests'] !== undefined) {
    return { kind: 'lull', passRequests: checkNumber(`${name}.passRequests`, value['passRequests'], { min: 1, integer: true }) };
  }
  const hint = value['hint'] === undefined ? defaultHint : checkHint(`${name}.hint`, value['hint']);
  if (value['holdUntilInFlight'] !== undefined) {
    const n = checkNumber(`${name}.holdUntilInFlight`, value['holdUntilInFlight'], { min: 1, integer: true });
    return { kind: 'hold', holdUntilInFlight: n, hint };
  }
  if (value['windowMs'] !== undefined) {
    const windowMs = checkNumber(`${name}.windowMs`, value['windowMs'], { min: 0, exclusiveMin: true });
    const status = value['status'] ?? 429;
    if (![429, 500, 502, 503, 504].includes(status as number)) fail(`${name}.status`, 'one of 429, 500, 502, 503, 504', status);
    // A 5xx carries a hint only when the storm names one.
    return { kind: 'window', windowMs, status: status as number, hint: status === 429 || value['hint'] !== undefined ? hint : undefined };
  }
  return fail(name, 'an object { holdUntilInFlight }, { windowMs } or { passRequests }', value);
}

function resolveStep(name: string, step: unknown): ScriptAction {
  if (typeof step === 'number') {
    const status = checkNumber(name, step, { min: 100, max: 599, integer: true });
    return status === 200
      ? { kind: 'success', delayMs: undefined, output: undefined }
      : { kind: 'error', status, code: undefined, delayMs: undefined, hint: undefined };
  }
  if (!isRecord(step)) fail(name, 'an HTTP status or an object { status, code, delayMs, hint, kind }', step);
  const delayMs = optionalNumber(`${name}.delayMs`, step['delayMs'], { min: 0 });
  const kind = step['kind'];
  if (kind === 'reset') return { kind: 'reset', delayMs };
  if (kind === 'hang') return { kind: 'hang' };
  if (kind !== undefined) fail(`${name}.kind`, '"reset", "hang" or undefined', kind);
  const code = step['code'] === undefined ? undefined : checkString(`${name}.code`, step['code']);
  const output = step['output'];
  if (output !== undefined && output !== 'invalid_json' && output !== 'schema_violation' && output !== 'malformed') {
    fail(`${name}.output`, '"invalid_json", "schema_violation", "malformed" or undefined', output);
  }
  const hint = step['hint'] === undefined ? undefined : checkHint(`${name}.hint`, step['hint']);
  const status =
    optionalNumber(`${name}.status`, step['status'], { min: 100, max: 599, integer: true }) ??
    (code === 'insufficient_quota' || hint !== undefined ? 429 : 200);
  if (output !== undefined && status !== 200) fail(`${name}.status`, '200 (or unset) when `output` is given', status);
  return status === 200 ? { kind: 'success', delayMs, output } : { kind: 'error', status, code, delayMs, hint };
}

function resolveRates(value: unknown): ResolvedFaultRates {
  if (value === undefined) return { error500: 0, error503: 0, reset: 0, hang: 0 };
  if (!isRecord(value)) fail('faults.rates', 'an object { error500, error503, reset, hang }', value);
  const rate = (key: keyof ResolvedFaultRates): number =>
    optionalNumber(`faults.rates.${key}`, value[key], { min: 0, max: 1 }) ?? 0;
  const rates = { error500: rate('error500'), error503: rate('error503'), reset: rate('reset'), hang: rate('hang') };
  const sum = rates.error500 + rates.error503 + rates.reset + rates.hang;
  // The faults are exclusive outcomes of one draw, so their probabilities must fit in [0, 1].
  if (sum > 1 + 1e-9) fail('the sum of faults.rates', 'at most 1', sum);
  return rates;
}

/** Validates `options` and fills in every default. Throws a `TypeError` naming the option at fault. */
export function resolveSimOptions(options: SimOptions = {}): ResolvedSimOptions {
  if (!isRecord(options)) fail('options', 'an object', options);
  const rateLimitHint =
    options.rateLimitHint === undefined ? SIM_DEFAULTS.rateLimitHint : checkHint('rateLimitHint', options.rateLimitHint);
  const faults: unknown = options.faults ?? {};
  if (!isRecord(faults)) fail('faults', 'an object { storms, scripts, rates }', faults);

  const stormsIn = faults['storms'] ?? [];
  if (!Array.isArray(stormsIn)) fail('faults.storms', 'an array', stormsIn);
  const storms = stormsIn.map((storm: unknown, i) => resolveStorm(`faults.storms[${i}]`, storm, rateLimitHint));

  const scriptsIn = faults['scripts'] ?? {};
  if (!isRecord(scriptsIn)) fail('faults.scripts', 'an object mapping keys to step arrays', scriptsIn);
  // A Map, not the caller's object: keys such as "__proto__" or "constructor" must be plain keys.
  const scripts = new Map<string, readonly ScriptAction[]>();
  for (const [key, steps] of Object.entries(scriptsIn)) {
    const name = `faults.scripts[${JSON.stringify(key)}]`;
    if (!Array.isArray(steps)) fail(name, 'an array of steps', steps);
    scripts.set(
      key,
      steps.map((step: unknown, i) => resolveStep(`${name}[${i}]`, step)),
    );
  }

  const apiKey = options.apiKey === undefined ? undefined : checkString('apiKey', options.apiKey);
  if (apiKey === '') fail('apiKey', 'a non-empty string', apiKey);
  const recordRequests = options.recordRequests ?? SIM_DEFAULTS.recordRequests;
  if (typeof recordRequests !== 'boolean') fail('recordRequests', 'a boolean', recordRequests);

  return {
    host: checkString('host', options.host ?? SIM_DEFAULTS.host),
    port: checkNumber('port', options.port ?? SIM_DEFAULTS.port, { min: 0, max: 65535, integer: true }),
    latencyMs: checkNumber('latencyMs', options.latencyMs ?? SIM_DEFAULTS.latencyMs, { min: 0 }),
    latencyJitterMs: checkNumber('latencyJitterMs', options.latencyJitterMs ?? SIM_DEFAULTS.latencyJitterMs, { min: 0 }),
    completionTokens: checkNumber('completionTokens', options.completionTokens ?? SIM_DEFAULTS.completionTokens, {
      min: 0,
      integer: true,
    }),
    embeddingDimensions: checkNumber('embeddingDimensions', options.embeddingDimensions ?? SIM_DEFAULTS.embeddingDimensions, { min: 1, integer: true }),
    seed: checkNumber('seed', options.seed ?? SIM_DEFAULTS.seed, { integer: true }),
    model: checkString('model', options.model ?? SIM_DEFAULTS.model),
    apiKey,
    rpm: optionalNumber('rpm', options.rpm, { min: 0, exclusiveMin: true }),
    tpm: optionalNumber('tpm', options.tpm, { min: 0, exclusiveMin: true }),
    rateWindowMs: checkNumber('rateWindowMs', options.rateWindowMs ?? SIM_DEFAULTS.rateWindowMs, {
      min: 0,
      exclusiveMin: true,
    }),
    slots: optionalNumber('slots', options.slots, { min: 1, integer: true }),
    invalidJsonRate: checkNumber('invalidJsonRate', options.invalidJsonRate ?? SIM_DEFAULTS.invalidJsonRate, {
      min: 0,
      max: 1,
    }),
    schemaViolationRate: checkNumber(
      'schemaViolationRate',
      options.schemaViolationRate ?? SIM_DEFAULTS.schemaViolationRate,
      { min: 0, max: 1 },
    ),
    rateLimitHint,
    storms,
    scripts,
    rates: resolveRates(faults['rates']),
    recordRequests,
  };
}
