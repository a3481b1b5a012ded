// Distributed (issue 15): one run across processes — a redis-server, the simulator in its own
// process with RPM/TPM limits over a sliding window, a coordinator (`batch-llm run --redis
// --no-local-work`, the built CLI) and three `batch-llm worker` processes. Three variants, each
// against a fresh Redis and simulator: the limits configured (`--rpm/--tpm`), the limits learned
// from the x-ratelimit-* headers only, and the configured run with one worker killed (kill -9) at
// 40 %; and, side by side, `single`: the same CLI alone on one machine (no Redis) with the
// configured limits and 3× the concurrency, which shows what this machine allows. Prints, per variant: goodput (successful items/s from the first request to the last
// success, sampled from the simulator every 100 ms) ÷ the limit, 429s as a share of requests,
// Redis commands per item (`INFO commandstats` before and after: every command the server ran,
// BullMQ's included, and those run inside Lua scripts too) and script calls (EVALSHA/EVAL) per item, and for the kill, the time from the kill to BullMQ's stalled event for the
// dead worker's chunk and to that chunk being active again elsewhere. Per distributed variant also
// the workers' own script calls per item by script, and the budget units they leased that lapsed
// unspent (their exit log). The `cooldown` variant is the configured one with two 429 window storms
// (at 30 % and 60 % of the requests, 1 s retry-after-ms): from the simulator's request records and
// the chunks' `processedBy`, each process's first request after each cooldown — the resume skew
// (latest − earliest process) and each one's lag behind the cooldown's end as Redis announced it.
// Prints one JSON object.
//
//   npm run build && npx tsx benchmarks/distributed.ts [--quick] [--items 20000] [--rpm 30000]
//       [--window-ms 10000] [--latency 50] [--concurrency 64] [--variants single,configured,learned,kill,cooldown]
// (--quick: 2,000 items, rpm 6000, a 5 s window.)
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { startRedis } from '../tests/helpers/redis-server.js';
import { log, printResult, round } from './lib/report.js';
import { startSimChild, type SimChild } from './lib/sim-child.js';
import type { SimOptions, SimRequestRecord } from '../src/sim/index.js';
import { chatItems, simulatorCost } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    items: { type: 'string' },
    rpm: { type: 'string' },
    'window-ms': { type: 'string' },
    latency: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '64' },
    variants: { type: 'string', default: 'single,configured,learned,kill,cooldown' },
  },
});
const quick = values.quick;
const count = Number(values.items ?? (quick ? 2000 : 20_000));
const rpm = Number(values.rpm ?? (quick ? 6000 : 30_000));
const maxTokens = 64;
const promptChars = 132;
const cost = simulatorCost(promptChars, maxTokens);
// Both budgets bind at once: the TPM limit in requests equals the RPM limit.
const tpm = rpm * cost;
const windowMs = Number(values['window-ms'] ?? (quick ? 5000 : 10_000));
const latencyMs = Number(values.latency);
const concurrency = Number(values.concurrency);
const limit = rpm / 60; // items/s
const BIN = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const RUN_ID = 'bench';

function cli(args: string[]): { child: ChildProcess; done: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, done: once(child, 'close').then(([code]) => code as number | null), stderr: () => stderr };
}

/** Calls per command from INFO commandstats. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  return new Map([...info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)].map((match) => [match[1] ?? '', Number(match[2])]));
}

function delta(after: Map<string, number>, before: Map<string, number>, only?: (command: string) => boolean): number {
  let sum = 0;
  for (const [command, calls] of after) if (only === undefined || only(command)) sum += calls - (before.get(command) ?? 0);
  return sum;
}

const SCRIPTS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro']);

interface Sample {
  goodput_ratio: number;
  goodput: number;
  succeeded: number;
  requests: number;
  rate_limited: number;
  share_429: number;
  /** Every command Redis ran (commands inside Lua scripts included: INFO commandstats counts them). */
  redis_commands_per_item: number;
  /** Script round trips (EVALSHA/EVAL: ours and BullMQ's). */
  redis_scripts_per_item: number;

  active_s: number;
  wall_s: number;
  /** From the coordinator's start to the first request the simulator saw (100 ms samples). */
  start_to_first_request_s: number;
  /** From the last success the simulator counted to the coordinator's exit. */
  last_success_to_exit_s: number;
  cooldowns: number;
  kill_to_stalled_ms?: number | null;
  kill_to_redelivered_ms?: number | null;
  /** The workers' own script calls per item, by script (from their exit log). */
  worker_scripts_per_item?: Record<string, number>;
  /** Leased budget units that lapsed unspent (and of them, expired: no new slice came), as a share of those leased, per bucket. */
  lapsed_share?: Record<string, number>;
  /** 429s by what caused them at the simulator (a storm, the RPM or TPM window). */
  rate_limited_by_cause?: Record<string, number>;
  /**
   * Per cooldown: latest − earliest process's first request after its end (from 20 ms before
   * it: processes convert Redis' end to their clocks), each one's lag behind the end, and the
   * requests that arrived inside it after its first 100 ms (none should).
   */
  resume?: { gen: number; pause_ms: number; skew_ms: number; lag_ms: number[]; during: number }[];
}

/** Sums the workers' exit lines: `script calls: commit 12, lease 30, …; leased: requests 100 (lapsed 3, expired 1), tokens …`. */
function workerFigures(logs: string[], items: number): Pick<Sample, 'worker_scripts_per_item' | 'lapsed_share'> {
  const calls = new Map<string, number>();
  const units = new Map<string, { leased: number; lapsed: number; expired: number }>();
  for (const text of logs) {
    const line = text.split('\n').find((l) => l.includes('script calls:'));
    if (line === undefined) continue;
    const scripts = /script calls: ([^;]*);/.exec(line)?.[1] ?? '';
    for (const [, name, n] of scripts.matchAll(/(\w+) (\d+)/g)) calls.set(name ?? '', (calls.get(name ?? '') ?? 0) + Number(n));
    for (const [, bucket, leased, lapsed, expired] of line.matchAll(/(requests|tokens) (\d+) \(lapsed (\d+), expired (\d+)\)/g)) {
      const sum = units.get(bucket ?? '') ?? { leased: 0, lapsed: 0, expired: 0 };
      units.set(bucket ?? '', { leased: sum.leased + Number(leased), lapsed: sum.lapsed + Number(lapsed), expired: sum.expired + Number(expired) });
    }
  }
  return {
    worker_scripts_per_item: Object.fromEntries([...calls].map(([name, n]) => [name, round(n / items, 3)])),
    lapsed_share: Object.fromEntries([...units].flatMap(([bucket, u]) => [[bucket, round(u.leased === 0 ? 0 : u.lapsed / u.leased, 3)], [`${bucket}_expired`, round(u.leased === 0 ? 0 : u.expired / u.leased, 3)]])),
  };
}

/** Each cooldown's resumption: per process (by the chunks it held), its first request from 20 ms before the cooldown's end. */
function resumeSkew(records: readonly SimRequestRecord[], owner: ReadonlyMap<string, string>, cooldowns: ReadonlyMap<number, { from: number; until: number }>): NonNullable<Sample['resume']> {
  return [...cooldowns].map(([gen, { from, until }]) => {
    const first = new Map<string, number>();
    let during = 0;
    for (const record of records) {
      const process = owner.get(record.key);
      // Requests already past the gates when it opened may still arrive in its first 100 ms.
      if (record.arrivedAt > from + 100 && record.arrivedAt < until - 20) during += 1;
      if (process === undefined || record.arrivedAt < until - 20) continue;
      if (!first.has(process) || record.arrivedAt < (first.get(process) ?? Infinity)) first.set(process, record.arrivedAt);
    }
    const times = [...first.values()].sort((a, b) => a - b);
    return { gen, pause_ms: Math.round(until - from), skew_ms: round((times.at(-1) ?? NaN) - (times[0] ?? NaN), 1), lag_ms: times.map((t) => round(t - until, 1)), during };
  });
}

async function measure(variant: string, input: string, dir: string): Promise<Sample> {
  const redisServer = await startRedis();
  const storming = variant === 'cooldown';
  const hint = { header: 'retry-after-ms' as const, ms: 1000 };
  const storms: SimOptions['faults'] = { storms: [{ passRequests: Math.round(count * 0.3) }, { windowMs: 200, hint }, { passRequests: Math.round(count * 0.3) }, { windowMs: 200, hint }] };
  const sim: SimChild = await startSimChild({ latencyMs, rpm, tpm, rateWindowMs: windowMs, completionTokens: maxTokens, ...(storming ? { faults: storms, recordRequests: true } : {}) });
  const redis = new Redis({ path: redisServer.socket, maxRetriesPerRequest: null });
  const eventsConnection = new Redis({ path: redisServer.socket, maxRetriesPerRequest: null });
  const events = new QueueEvents('chunks', { connection: eventsConnection, prefix: `batch-llm:{${RUN_ID}}` });
  const children: ChildProcess[] = [];
  const subscriber = new Redis({ path: redisServer.socket, maxRetriesPerRequest: null });
  /** Item content → the worker process whose chunk held it (BullMQ's processedBy). */
  const owner = new Map<string, string>();
  const owners: Promise<void>[] = [];
  /** The run's cooldowns as Redis announced them (its clock is this machine's). */
  const announced = new Map<number, { from: number; until: number }>();
  try {
    await events.waitUntilReady();
    if (storming) {
      events.on('active', ({ jobId }) => {
        owners.push(
          redis.hmget(`batch-llm:{${RUN_ID}}:chunks:${jobId}`, 'pb', 'data').then(([by, data]) => {
            if (by === null || by === undefined || data === null || data === undefined) return;
            const job = JSON.parse(data) as { items: string[] };
            for (const text of job.items) {
              const item = JSON.parse(text) as { body: { messages: { content: string }[] } };
              owner.set(item.body.messages[0]?.content ?? '', by);
            }
          }),
        );
      });
      subscriber.on('message', (_channel: string, message: string) => {
        const [kind, gen, until, now] = message.split(' ');
        if (kind === 'opened') announced.set(Number(gen), { from: Number(now), until: Number(until) });
        const open = announced.get(Number(gen));
        if (kind === 'extended' && open !== undefined) open.until = Math.max(open.until, Number(until));
      });
      await subscriber.subscribe(`batch-llm:{${RUN_ID}}:events`);
    }
    // `single`: the same CLI on one machine, no Redis, side by side (what the machine itself allows).
    const workers = (variant === 'single' ? [] : [0, 1, 2]).map(() => cli(['worker', '--redis', redisServer.url, '--run-id', RUN_ID, '--threads', '1', '--concurrency', String(concurrency)]));
    children.push(...workers.map((w) => w.child));
    const before = await commandCalls(redis);
    const started = performance.now();
    const limits = variant === 'learned' ? [] : ['--rpm', String(rpm), '--tpm', String(tpm)];
    const distributed = variant === 'single' ? ['--concurrency', String(concurrency * 3)] : ['--redis', redisServer.url, '--run-id', RUN_ID, '--no-local-work'];
    const coordinator = cli(['run', input, '-o', join(dir, `${variant}.jsonl`), '--base-url', sim.url, '--model', 'sim', '--no-progress', ...distributed, ...limits]);
    children.push(coordinator.child);

    // The simulator's counts every 100 ms: when the first request came, when the last success.
    let first: number | null = null;
    let last = 0;
    let okSeen = 0;
    let killedAt: number | null = null;
    let stalledAt: number | null = null;
    let stalledJob: string | null = null;
    let redeliveredAt: number | null = null;
    events.on('stalled', ({ jobId }) => {
      if (killedAt !== null && stalledAt === null) {
        stalledAt = performance.now();
        stalledJob = jobId;
      }
    });
    events.on('active', ({ jobId }) => {
      if (jobId === stalledJob && redeliveredAt === null) redeliveredAt = performance.now();
    });
    let finished = false;
    const sampling = (async () => {
      while (!finished) {
        const stats = await sim.stats();
        const now = performance.now();
        if (first === null && stats.requests > 0) first = now;
        // The last success is the last sample whose count grew, not the last sample: the run's
        // shutdown after it (the coordinator drains, writes the summary) is not sending time.
        if (stats.ok > okSeen) {
          okSeen = stats.ok;
          last = now;
        }
        if (variant === 'kill' && killedAt === null && stats.ok >= count * 0.4) {
          workers[0]?.child.kill('SIGKILL');
          killedAt = now;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const code = await coordinator.done;
    const exitedAt = performance.now();
    finished = true;
    await sampling;
    if (code !== 0) throw new Error(`${variant}: the coordinator exited ${String(code)}: ${coordinator.stderr().slice(-2000)}`);
    const wall = performance.now() - started;
    await Promise.all(workers.slice(variant === 'kill' ? 1 : 0).map((w) => w.done));
    const stats = await sim.stats();
    const after = await commandCalls(redis);
    const cooldowns = Number((await redis.hget(`batch-llm:{${RUN_ID}}:cooldown`, 'opened')) ?? 0);
    // Success counts change only when an answer is written: the last sample that saw one bounds it.
    const activeMs = last - (first ?? last);
    const goodput = stats.ok / (activeMs / 1000);
    const sample: Sample = {
      goodput_ratio: round(goodput / limit, 3),
      goodput: round(goodput, 1),
      succeeded: stats.ok,
      requests: stats.requests,
      rate_limited: stats.rateLimited,
      share_429: round(stats.rateLimited / stats.requests, 4),
      redis_commands_per_item: round(delta(after, before) / count, 3),
      redis_scripts_per_item: round(delta(after, before, (command) => SCRIPTS.has(command)) / count, 3),
      active_s: round(activeMs / 1000, 2),
      wall_s: round(wall / 1000, 2),
      start_to_first_request_s: round(((first ?? started) - started) / 1000, 2),
      last_success_to_exit_s: round((exitedAt - last) / 1000, 2),
      cooldowns,
    };
    if (variant !== 'single') Object.assign(sample, workerFigures(workers.slice(variant === 'kill' ? 1 : 0).map((w) => w.stderr()), count));
    if (storming) {
      await Promise.all(owners);
      const records = await sim.requests();
      sample.resume = resumeSkew(records, owner, announced);
      // The storms' own 429s are the point of the variant; any other would be the budgets' fault.
      sample.rate_limited_by_cause = {};
      for (const record of records) if (record.outcome === 'rate_limit') sample.rate_limited_by_cause[record.cause] = (sample.rate_limited_by_cause[record.cause] ?? 0) + 1;
    }
    if (variant === 'kill') {
      const kill = killedAt;
      sample.kill_to_stalled_ms = kill === null || stalledAt === null ? null : Math.round(stalledAt - kill);
      sample.kill_to_redelivered_ms = kill === null || redeliveredAt === null ? null : Math.round(redeliveredAt - kill);
    }
    return sample;
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await events.close();
    // BullMQ does not close a connection it was given.
    eventsConnection.disconnect();
    subscriber.disconnect();
    redis.disconnect();
    await sim.stop();
    await redisServer.stop();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'batch-llm-bench-distributed-'));
const input = join(dir, 'in.jsonl');
await writeFile(input, [...chatItems(count, maxTokens, promptChars)].map((item) => JSON.stringify(item)).join('\n') + '\n');
const results: Record<string, Sample> = {};
for (const variant of values.variants.split(',').filter(Boolean)) {
  log(`distributed: ${variant}, ${count} items at ${rpm} rpm / ${tpm} tpm (${limit} items/s), 3 workers`);
  results[variant] = await measure(variant, input, dir);
  log(`  ${JSON.stringify(results[variant])}`);
}
printResult('distributed', quick ? 'quick' : 'full', { items: count, rpm, tpm, window_ms: windowMs, latency_ms: latencyMs, concurrency_per_worker: concurrency, workers: 3, limit_items_per_s: limit, results });
