// What a distributed run is, kept in Redis by its coordinator (`meta` key) for workers to join:
// the engine settings every process shares, the input's and task's hashes, the chunk size and the
// run's state. API keys are never in it: each process reads its own from its environment.

import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { ERROR_CATEGORIES } from '../model/outcome.js';
import type { BatchOptions } from '../run/options.js';
import { urlWithoutSecrets } from '../model/redact.js';
import { libraries, type DistributedLibraries } from './libraries.js';
import type { RunKeys } from './run-keys.js';

/** The meta's schemas, built from zod once it is loaded (libraries.ts: zod is not loaded until a distributed run starts). */
function buildSchemas(zod: DistributedLibraries['z']) {
  const shared = zod.object({
    baseURL: zod.string(),
    model: zod.string().optional(),
    task: zod.string().optional(),
    concurrency: zod.number().int().positive().optional(),
    maxAttempts: zod.number().optional(),
    maxRateLimitRetries: zod.number().optional(),
    attemptTimeoutMs: zod.number().optional(),
    backoffBaseMs: zod.number().optional(),
    backoffMaxMs: zod.number().optional(),
    cooldownBaseMs: zod.number().optional(),
    cooldownMaxMs: zod.number().optional(),
    rampStart: zod.number().optional(),
    rampJitterMs: zod.number().optional(),
    itemDeadlineMs: zod.number().optional(),
    failFast: zod.array(zod.enum(ERROR_CATEGORIES)).optional(),
    rpm: zod.number().optional(),
    tpm: zod.number().optional(),
    rateHeadroom: zod.number().optional(),
    defaultAnswerTokens: zod.number().optional(),
    learnRateLimits: zod.boolean().optional(),
    // Prices (no secret): a cost cap is reserved and settled in every process by them.
    prices: zod.object({ inputPerMillion: zod.number(), outputPerMillion: zod.number(), cachedInputPerMillion: zod.number().optional() }).optional(),
  });
  const meta = zod.object({
    runId: zod.string(),
    inputSha256: zod.string(),
    taskSha256: zod.string().nullable(),
    chunkSize: zod.number().int().positive(),
    settings: shared,
  });
  return { shared, meta };
}

type Schemas = ReturnType<typeof buildSchemas>;
let schemas: Schemas | null = null;

function schemasOf(): Schemas {
  schemas ??= buildSchemas(libraries().z);
  return schemas;
}

/** The engine settings all processes of a run share (no key, no headers: they may hold secrets). */
export type SharedSettings = z.infer<Schemas['shared']>;

export type RunMeta = z.infer<Schemas['meta']>;

/**
 * The shared part of the coordinator's engine options. The base URL goes without its password and
 * credential query values (model/redact.ts): Redis is no place for secrets, and requests send
 * neither (only the path and a Bearer key from each process's environment).
 */
export function sharedSettings(engine: Omit<BatchOptions, 'items'>, baseURL: string): SharedSettings {
  const { shared } = schemasOf();
  const picked: SharedSettings = { baseURL: urlWithoutSecrets(baseURL) };
  for (const key of Object.keys(shared.shape) as (keyof SharedSettings)[]) {
    if (key === 'baseURL') continue;
    const value = engine[key];
    if (value !== undefined) Object.assign(picked, { [key]: value });
  }
  return shared.parse(picked);
}

export async function readMeta(redis: Redis, keys: RunKeys): Promise<{ meta: RunMeta; status: string } | null> {
  const [text, status] = await redis.hmget(keys.meta, 'run', 'status');
  if (text === null || text === undefined) return null;
  return { meta: schemasOf().meta.parse(JSON.parse(text)), status: status ?? 'running' };
}

export async function writeMeta(redis: Redis, keys: RunKeys, meta: RunMeta): Promise<void> {
  await redis.multi().hset(keys.meta, 'run', JSON.stringify(schemasOf().meta.parse(meta)), 'status', 'running').hdel(keys.meta, 'stop').exec();
}

/** A process's engine stopped the run (a spend cap): the coordinator stops it everywhere. */
export async function requestStop(redis: Redis, keys: RunKeys, reason: string): Promise<void> {
  await redis.hsetnx(keys.meta, 'stop', reason);
}

/**
 * What the coordinator looks at while the run goes on: why a process asked the run to stop (or
 * null), and whether the run is still in Redis at all. A Redis restarted without persistence
 * (or flushed) comes back empty: the run's meta key is gone with its queue and results stream,
 * and the chunks that were waiting or being worked will never report.
 */
export async function runState(redis: Redis, keys: RunKeys): Promise<{ stop: string | null; lost: boolean }> {
  const [run, stop] = await redis.hmget(keys.meta, 'run', 'stop');
  return { stop: stop ?? null, lost: run === null || run === undefined };
}

/** Whether the coordinator marked the run done (also when Redis lost the rest of its state meanwhile). */
export async function isDone(redis: Redis, keys: RunKeys): Promise<boolean> {
  return (await redis.hget(keys.meta, 'status')) === 'done';
}

/** Marks the run done and tells the workers, which then leave. */
export async function markDone(redis: Redis, keys: RunKeys): Promise<void> {
  await redis.hset(keys.meta, 'status', 'done');
  await redis.publish(keys.channel, 'done');
}
