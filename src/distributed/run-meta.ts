// What a distributed run is, kept in Redis by its coordinator (`meta` key) for workers to join:
// the engine settings every process shares, the input's and task's hashes, the chunk size and the
// run's state. API keys are never in it: each process reads its own from its environment.

import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ERROR_CATEGORIES } from '../model/outcome.js';
import type { BatchOptions } from '../run/options.js';
import type { RunKeys } from './run-keys.js';

const SHARED = z.object({
  baseURL: z.string(),
  model: z.string().optional(),
  task: z.string().optional(),
  concurrency: z.number().int().positive().optional(),
  maxAttempts: z.number().optional(),
  maxRateLimitRetries: z.number().optional(),
  attemptTimeoutMs: z.number().optional(),
  backoffBaseMs: z.number().optional(),
  backoffMaxMs: z.number().optional(),
  cooldownBaseMs: z.number().optional(),
  cooldownMaxMs: z.number().optional(),
  rampStart: z.number().optional(),
  rampJitterMs: z.number().optional(),
  itemDeadlineMs: z.number().optional(),
  failFast: z.array(z.enum(ERROR_CATEGORIES)).optional(),
  rpm: z.number().optional(),
  tpm: z.number().optional(),
  rateHeadroom: z.number().optional(),
  defaultAnswerTokens: z.number().optional(),
  learnRateLimits: z.boolean().optional(),
  // Prices (no secret): a cost cap is reserved and settled in every process by them.
  prices: z.object({ inputPerMillion: z.number(), outputPerMillion: z.number(), cachedInputPerMillion: z.number().optional() }).optional(),
});

/** The engine settings all processes of a run share (no key, no headers: they may hold secrets). */
export type SharedSettings = z.infer<typeof SHARED>;

const META = z.object({
  runId: z.string(),
  inputSha256: z.string(),
  taskSha256: z.string().nullable(),
  chunkSize: z.number().int().positive(),
  settings: SHARED,
});

export type RunMeta = z.infer<typeof META>;

/** The shared part of the coordinator's engine options. */
export function sharedSettings(engine: Omit<BatchOptions, 'items'>, baseURL: string): SharedSettings {
  const picked: SharedSettings = { baseURL };
  for (const key of Object.keys(SHARED.shape) as (keyof SharedSettings)[]) {
    if (key === 'baseURL') continue;
    const value = engine[key];
    if (value !== undefined) Object.assign(picked, { [key]: value });
  }
  return SHARED.parse(picked);
}

export async function readMeta(redis: Redis, keys: RunKeys): Promise<{ meta: RunMeta; status: string } | null> {
  const [text, status] = await redis.hmget(keys.meta, 'run', 'status');
  if (text === null || text === undefined) return null;
  return { meta: META.parse(JSON.parse(text)), status: status ?? 'running' };
}

export async function writeMeta(redis: Redis, keys: RunKeys, meta: RunMeta): Promise<void> {
  await redis.multi().hset(keys.meta, 'run', JSON.stringify(META.parse(meta)), 'status', 'running').hdel(keys.meta, 'stop').exec();
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
