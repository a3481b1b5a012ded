// The run's shared state lives in Redis and changes only through these Lua scripts, each one
// atomic on the server. They read the time from Redis `TIME` only — never a client's clock, so
// machines whose clocks disagree still agree on when a cooldown ends — and every script that
// touches the cooldown first ends it if its time has come (and publishes `ended`), so no process
// has to be alive to end a cooldown: the next script call from anybody does.
//
// The protocol is the control block's (control/cooldown.ts), lifted to the cluster:
//  - the generation only increases; even = open, odd = cooling down;
//  - a 429 reported with the generation it was sent in (`sentGen`) opens cooldown sentGen + 1 if
//    the generation is still sentGen; joins or extends it (by max, never shorter) if it is
//    sentGen + 1; and is stale otherwise — a late 429 from an old burst opens nothing;
//  - budgets are GCRA buckets; a lease hands a process the next slice of a bucket (its start is
//    the bucket's theoretical arrival time), so slices never overlap; a bucket's interval per unit
//    only grows (limits learned from servers only tighten);
//  - a bitmap of input line numbers takes each line's first final outcome and refuses any other,
//    adding the accepted ones to the results stream in the same step (exactly-once output).
//
// Registered with ioredis' defineCommand: it sends EVALSHA and falls back to EVAL on NOSCRIPT,
// in pipelines and on Cluster alike.

import type { Redis, Result } from 'ioredis';
import type { RunKeys } from './run-keys.js';

const PRELUDE = `
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
-- Numbers go to Redis as exact integer strings (tostring would round them to 14 digits).
local function s(x)
  return string.format('%.0f', x)
end
local function num(key, field)
  return tonumber(redis.call('HGET', key, field) or '0')
end
-- Ends an expired cooldown from time; returns the generation.
local function end_if_due(cd, channel, now)
  local gen = num(cd, 'gen')
  if gen % 2 == 1 and now >= num(cd, 'until') then
    gen = gen + 1
    redis.call('HSET', cd, 'gen', s(gen))
    redis.call('PUBLISH', channel, 'ended ' .. s(gen) .. ' ' .. s(num(cd, 'until')) .. ' ' .. s(now))
  end
  return gen
end
`;

/** KEYS: cooldown. ARGV: channel, resetStreak (0/1). Returns [gen, until, now] (ms). */
const STATE = `${PRELUDE}
local now = math.floor(now_us() / 1000)
local gen = end_if_due(KEYS[1], ARGV[1], now)
if ARGV[2] == '1' and gen % 2 == 0 then redis.call('HSET', KEYS[1], 'streak', 0) end
return {gen, num(KEYS[1], 'until'), now}
`;

/**
 * KEYS: cooldown. ARGV: channel, baseMs, maxMs, then pairs (sentGen, hintMs or -1).
 * Returns [gen, until, now, result per report (1 opened, 2 extended, 3 joined, 0 stale)].
 */
const REPORT = `${PRELUDE}
local cd = KEYS[1]
local channel = ARGV[1]
local base = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local now = math.floor(now_us() / 1000)
local gen = end_if_due(cd, channel, now)
local out = {0, 0, now}
for i = 4, #ARGV, 2 do
  local sent = tonumber(ARGV[i])
  local hint = tonumber(ARGV[i + 1])
  if sent == gen and gen % 2 == 0 then
    local streak = num(cd, 'streak')
    local pause = hint
    if pause < 0 then pause = math.min(max, base * 2 ^ streak) end
    gen = gen + 1
    local untilMs = now + math.ceil(pause)
    redis.call('HSET', cd, 'gen', s(gen), 'until', s(untilMs), 'streak', s(streak + 1))
    redis.call('HINCRBY', cd, 'opened', 1)
    redis.call('PUBLISH', channel, 'opened ' .. s(gen) .. ' ' .. s(untilMs) .. ' ' .. s(now))
    table.insert(out, 1)
  elseif sent + 1 == gen and gen % 2 == 1 then
    -- A joiner pauses as long as its opener would have: the streak before the opening.
    local pause = hint
    if pause < 0 then pause = math.min(max, base * 2 ^ math.max(0, num(cd, 'streak') - 1)) end
    local untilMs = now + math.ceil(pause)
    if untilMs > num(cd, 'until') then
      redis.call('HSET', cd, 'until', s(untilMs))
      redis.call('PUBLISH', channel, 'extended ' .. s(gen) .. ' ' .. s(untilMs) .. ' ' .. s(now))
      table.insert(out, 2)
    else
      table.insert(out, 3)
    end
  else
    redis.call('HINCRBY', cd, 'stale', 1)
    table.insert(out, 0)
  end
end
out[1] = gen
out[2] = num(cd, 'until')
return out
`;

/**
 * KEYS: cooldown, budget. ARGV: channel, then per bucket (requests, tokens) units and intervalNs
 * (the caller's own, possibly learned: the bucket's only ever grows to it; 0 = none). Units 0 asks
 * for no slice of that bucket (its interval is still tightened and reported).
 * Returns [gen, until, now (ms), then per bucket startOffsetUs (-1 = no slice: unlimited or not
 * asked), intervalNs, startUs]. A slice is [now + startOffset, now + startOffset + units × interval).
 * Both buckets in one call: one round trip per slice, whatever the limits.
 */
const LEASE = `${PRELUDE}
local cd = KEYS[1]
local budget = KEYS[2]
local nowUs = now_us()
local now = math.floor(nowUs / 1000)
local gen = end_if_due(cd, ARGV[1], now)
local out = {gen, num(cd, 'until'), now}
local buckets = {'requests', 'tokens'}
for b = 1, 2 do
  local bucket = buckets[b]
  local units = tonumber(ARGV[2 * b])
  local mine = tonumber(ARGV[2 * b + 1])
  local interval = num(budget, bucket .. ':interval')
  if mine > interval then
    interval = mine
    redis.call('HSET', budget, bucket .. ':interval', s(interval))
  end
  if interval == 0 or units <= 0 then
    table.insert(out, -1)
    table.insert(out, interval)
    table.insert(out, 0)
  else
    local start = math.max(num(budget, bucket .. ':tat'), nowUs)
    redis.call('HSET', budget, bucket .. ':tat', s(start + math.ceil(units * interval / 1000)))
    table.insert(out, start - nowUs)
    table.insert(out, interval)
    table.insert(out, start)
  end
end
return out
`;

/** KEYS: budget. ARGV: bucket, intervalNs. Tightens the bucket's interval to at least this. */
const TIGHTEN = `${PRELUDE}
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':interval') or '0')
local wanted = tonumber(ARGV[2])
if wanted > current then redis.call('HSET', KEYS[1], ARGV[1] .. ':interval', s(wanted)) end
return math.max(current, wanted)
`;

/**
 * KEYS: done bitmap, results stream, stats. ARGV: pairs (line, outcome JSON).
 * Returns 1 per accepted line (its first final outcome, now in the stream), 0 per refused one.
 */
const COMMIT = `
local out = {}
for i = 1, #ARGV, 2 do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then
    redis.call('XADD', KEYS[2], '*', 'line', ARGV[i], 'outcome', ARGV[i + 1])
    table.insert(out, 1)
  else
    redis.call('HINCRBY', KEYS[3], 'duplicates', 1)
    table.insert(out, 0)
  end
end
return out
`;

/** KEYS: done bitmap. ARGV: line numbers. Returns those without a final outcome yet. */
const PENDING = `
local out = {}
for i = 1, #ARGV do
  if redis.call('GETBIT', KEYS[1], ARGV[i]) == 0 then table.insert(out, tonumber(ARGV[i])) end
end
return out
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    batchLlmState(cooldown: string, channel: string, resetStreak: string): Result<number[], Context>;
    batchLlmReport(cooldown: string, ...args: (string | number)[]): Result<number[], Context>;
    batchLlmLease(cooldown: string, budget: string, channel: string, requests: number, requestsIntervalNs: string, tokens: number, tokensIntervalNs: string): Result<number[], Context>;
    batchLlmTighten(budget: string, bucket: string, intervalNs: string): Result<number, Context>;
    batchLlmCommit(done: string, results: string, stats: string, ...pairs: (string | number)[]): Result<number[], Context>;
    batchLlmPending(done: string, ...lines: number[]): Result<number[], Context>;
  }
}

/** Adds the scripts to a connection (once per connection; ioredis caches their SHA). */
export function defineScripts(redis: Redis): void {
  redis.defineCommand('batchLlmState', { numberOfKeys: 1, lua: STATE });
  redis.defineCommand('batchLlmReport', { numberOfKeys: 1, lua: REPORT });
  redis.defineCommand('batchLlmLease', { numberOfKeys: 2, lua: LEASE });
  redis.defineCommand('batchLlmTighten', { numberOfKeys: 1, lua: TIGHTEN });
  redis.defineCommand('batchLlmCommit', { numberOfKeys: 3, lua: COMMIT });
  redis.defineCommand('batchLlmPending', { numberOfKeys: 1, lua: PENDING, readOnly: true });
}

/** The global cooldown as one script saw it: times are Redis ms, `now` when the script ran. */
export interface GlobalCooldown {
  readonly gen: number;
  readonly until: number;
  readonly now: number;
}

export type GlobalReport = 'opened' | 'extended' | 'joined' | 'stale';
const REPORTS: readonly GlobalReport[] = ['stale', 'opened', 'extended', 'joined'];

export type Bucket = 'requests' | 'tokens';

/** One bucket's part of a lease. */
export interface Slice {
  /** µs after the reply's `now` at which the slice starts; null when there is none (no limit, or none asked). */
  readonly startOffsetUs: number | null;
  readonly units: number;
  /** The run's interval per unit now, in ns (0 = no limit). */
  readonly intervalNs: number;
  /** The slice's start in Redis µs (0 when there is none). */
  readonly startUs: number;
}

export interface Lease extends GlobalCooldown {
  readonly requests: Slice;
  readonly tokens: Slice;
}

/** What a lease asks of one bucket: `units` (0 = no slice) and this process's interval (it only tightens the run's). */
export interface LeaseAsk {
  readonly units: number;
  readonly intervalNs: bigint;
}

function cooldownOf(reply: readonly number[]): GlobalCooldown {
  return { gen: reply[0] ?? 0, until: reply[1] ?? 0, now: reply[2] ?? 0 };
}

/** Typed calls of the scripts for one run. */
export class RunScripts {
  readonly #redis: Redis;
  readonly #keys: RunKeys;
  /** Script calls made, for the Redis-calls-per-item figure. */
  calls = 0;

  constructor(redis: Redis, keys: RunKeys) {
    defineScripts(redis);
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Ends the cooldown if due; with `resetStreak`, a success says the cooldowns-in-a-row are over. */
  async state(resetStreak = false): Promise<GlobalCooldown> {
    this.calls += 1;
    return cooldownOf(await this.#redis.batchLlmState(this.#keys.cooldown, this.#keys.channel, resetStreak ? '1' : '0'));
  }

  /** Reports 429s, each with the (even) global generation it was sent in and the server's hint. */
  async report(reports: readonly { sentGen: number; hintMs: number | null }[], policy: { baseMs: number; maxMs: number }): Promise<GlobalCooldown & { results: GlobalReport[] }> {
    this.calls += 1;
    const args = reports.flatMap((r) => [r.sentGen, r.hintMs === null ? -1 : Math.max(0, Math.ceil(r.hintMs))]);
    const reply = await this.#redis.batchLlmReport(this.#keys.cooldown, this.#keys.channel, policy.baseMs, policy.maxMs, ...args);
    return { ...cooldownOf(reply), results: reply.slice(3).map((code) => REPORTS[code] ?? 'stale') };
  }

  /** Leases the next slice of each budget in one call. */
  async lease(asks: Readonly<Record<Bucket, LeaseAsk>>): Promise<Lease> {
    this.calls += 1;
    const units = (ask: LeaseAsk): number => (ask.units <= 0 ? 0 : Math.ceil(ask.units));
    const reply = await this.#redis.batchLlmLease(
      this.#keys.cooldown,
      this.#keys.budget,
      this.#keys.channel,
      units(asks.requests),
      asks.requests.intervalNs.toString(),
      units(asks.tokens),
      asks.tokens.intervalNs.toString(),
    );
    const slice = (at: number, ask: LeaseAsk): Slice => {
      const offset = reply[at] ?? -1;
      return { startOffsetUs: offset < 0 ? null : offset, units: offset < 0 ? 0 : units(ask), intervalNs: reply[at + 1] ?? 0, startUs: reply[at + 2] ?? 0 };
    };
    return { ...cooldownOf(reply), requests: slice(3, asks.requests), tokens: slice(6, asks.tokens) };
  }

  /** Sets a bucket's interval (ns per unit) to at least `intervalNs`; resolves with the interval now. */
  async tighten(bucket: Bucket, intervalNs: bigint): Promise<number> {
    this.calls += 1;
    return this.#redis.batchLlmTighten(this.#keys.budget, bucket, intervalNs.toString());
  }

  /** Offers final outcomes by input line; resolves with whether each was the line's first. */
  async commit(outcomes: readonly { line: number; outcome: string }[]): Promise<boolean[]> {
    if (outcomes.length === 0) return [];
    this.calls += 1;
    const pairs = outcomes.flatMap((o) => [o.line, o.outcome]);
    const reply = await this.#redis.batchLlmCommit(this.#keys.done, this.#keys.results, this.#keys.stats, ...pairs);
    return reply.map((accepted) => accepted === 1);
  }

  /** The lines among `lines` that have no final outcome yet. */
  async pending(lines: readonly number[]): Promise<number[]> {
    if (lines.length === 0) return [];
    this.calls += 1;
    return this.#redis.batchLlmPending(this.#keys.done, ...lines);
  }
}
