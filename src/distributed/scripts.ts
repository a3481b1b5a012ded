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
 * KEYS: done bitmap, results stream, stats. ARGV: triples (line, final 1/0, outcome JSON).
 * Returns 1 per accepted line (its first final outcome, now in the stream), 0 per refused one.
 * An outcome that is not final (`aborted`: the run stopped before the item ran or ended) goes to
 * the stream if the line has no final outcome, but leaves the line open: a resume runs it again,
 * and a worker that finishes it anyway still commits its real outcome.
 */
const COMMIT = `
local out = {}
for i = 1, #ARGV, 3 do
  local final = ARGV[i + 1] == '1'
  local free = redis.call('GETBIT', KEYS[1], ARGV[i]) == 0
  if free then
    if final then redis.call('SETBIT', KEYS[1], ARGV[i], 1) end
    redis.call('XADD', KEYS[2], '*', 'line', ARGV[i], 'outcome', ARGV[i + 2])
    table.insert(out, 1)
  else
    redis.call('HINCRBY', KEYS[3], 'duplicates', 1)
    table.insert(out, 0)
  end
end
return out
`;

/**
 * KEYS: spend. ARGV: holder id, then per dimension (tokens, cost): released (held, given back
 * unused), used (held, now spent), wanted, least (the grant if `wanted` does not fit); then liveMs.
 * The room is max − spent − held (no max: unlimited). Grants `wanted` if both dimensions fit,
 * else `least` if both fit, else nothing. Returns [grantedTokens, grantedCost, spentTokens,
 * spentCost, othersHold (1 when another holder seen within liveMs holds anything)], numbers as
 * strings (a Lua number in a reply would be cut to an integer).
 */
const SPEND = `${PRELUDE}
local sp = KEYS[1]
local id = ARGV[1]
local now = math.floor(now_us() / 1000)
local dims = {'tokens', 'cost'}
local fields = {}
local granted = {0, 0}
local fits = {true, true}
local fitsLeast = {true, true}
local function put(field, x) redis.call('HSET', sp, field, string.format('%.17g', x)) end
for d = 1, 2 do
  local dim = dims[d]
  local released = tonumber(ARGV[4 * d - 2])
  local used = tonumber(ARGV[4 * d - 1])
  local held = num(sp, 'held_' .. dim) - released - used
  local spent = num(sp, 'spent_' .. dim) + used
  local mine = num(sp, 'h:' .. id .. ':' .. dim) - released - used
  fields[d] = {held = held, spent = spent, mine = mine}
  local max = redis.call('HGET', sp, 'max_' .. dim)
  if max and max ~= '' then
    local room = tonumber(max) - spent - held
    fits[d] = tonumber(ARGV[4 * d]) <= room
    fitsLeast[d] = tonumber(ARGV[4 * d + 1]) <= room
  end
end
local pick = 0
if fits[1] and fits[2] then pick = 0 elseif fitsLeast[1] and fitsLeast[2] then pick = 1 else pick = -1 end
for d = 1, 2 do
  local f = fields[d]
  if pick >= 0 then granted[d] = tonumber(ARGV[4 * d + pick]) end
  put('held_' .. dims[d], f.held + granted[d])
  put('spent_' .. dims[d], f.spent)
  put('h:' .. id .. ':' .. dims[d], f.mine + granted[d])
end
put('h:' .. id .. ':seen', now)
local others = 0
local all = redis.call('HGETALL', sp)
for i = 1, #all, 2 do
  local holder = string.match(all[i], '^h:(.+):seen$')
  if holder and holder ~= id and now - tonumber(all[i + 1]) <= tonumber(ARGV[10]) then
    if num(sp, 'h:' .. holder .. ':tokens') > 0 or num(sp, 'h:' .. holder .. ':cost') > 0 then others = 1 end
  end
end
return {string.format('%.17g', granted[1]), string.format('%.17g', granted[2]), string.format('%.17g', fields[1].spent), string.format('%.17g', fields[2].spent), others}
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
    batchLlmSpend(spend: string, ...args: string[]): Result<(string | number)[], Context>;
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
  redis.defineCommand('batchLlmSpend', { numberOfKeys: 1, lua: SPEND });
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

/** One dimension (tokens or cost) of a spend exchange. */
export interface SpendAsk {
  readonly released: number;
  readonly used: number;
  readonly wanted: number;
  readonly least: number;
}

export interface SpendReply {
  readonly granted: Readonly<Record<'tokens' | 'cost', number>>;
  readonly spent: Readonly<Record<'tokens' | 'cost', number>>;
  /** Another live process holds reservations (their settling may free room). */
  readonly othersHold: boolean;
}

function cooldownOf(reply: readonly number[]): GlobalCooldown {
  return { gen: reply[0] ?? 0, until: reply[1] ?? 0, now: reply[2] ?? 0 };
}

export type ScriptName = 'state' | 'report' | 'lease' | 'tighten' | 'commit' | 'pending' | 'spend';

/** Typed calls of the scripts for one run. */
export class RunScripts {
  readonly #redis: Redis;
  readonly #keys: RunKeys;
  /** Script calls made, for the Redis-calls-per-item figure. */
  calls = 0;
  /** The same, per script. */
  readonly callsOf: Record<ScriptName, number> = { state: 0, report: 0, lease: 0, tighten: 0, commit: 0, pending: 0, spend: 0 };

  constructor(redis: Redis, keys: RunKeys) {
    defineScripts(redis);
    this.#redis = redis;
    this.#keys = keys;
  }

  #count(name: ScriptName): void {
    this.calls += 1;
    this.callsOf[name] += 1;
  }

  /** Ends the cooldown if due; with `resetStreak`, a success says the cooldowns-in-a-row are over. */
  async state(resetStreak = false): Promise<GlobalCooldown> {
    this.#count('state');
    return cooldownOf(await this.#redis.batchLlmState(this.#keys.cooldown, this.#keys.channel, resetStreak ? '1' : '0'));
  }

  /** Reports 429s, each with the (even) global generation it was sent in and the server's hint. */
  async report(reports: readonly { sentGen: number; hintMs: number | null }[], policy: { baseMs: number; maxMs: number }): Promise<GlobalCooldown & { results: GlobalReport[] }> {
    this.#count('report');
    const args = reports.flatMap((r) => [r.sentGen, r.hintMs === null ? -1 : Math.max(0, Math.ceil(r.hintMs))]);
    const reply = await this.#redis.batchLlmReport(this.#keys.cooldown, this.#keys.channel, policy.baseMs, policy.maxMs, ...args);
    return { ...cooldownOf(reply), results: reply.slice(3).map((code) => REPORTS[code] ?? 'stale') };
  }

  /** Leases the next slice of each budget in one call. */
  async lease(asks: Readonly<Record<Bucket, LeaseAsk>>): Promise<Lease> {
    this.#count('lease');
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
    this.#count('tighten');
    return this.#redis.batchLlmTighten(this.#keys.budget, bucket, intervalNs.toString());
  }

  /**
   * Offers outcomes by input line; resolves with whether each was accepted (the line had no final
   * one). `final: false` (an abort) leaves the line open. @default final true
   */
  async commit(outcomes: readonly { line: number; outcome: string; final?: boolean }[]): Promise<boolean[]> {
    if (outcomes.length === 0) return [];
    this.#count('commit');
    const pairs = outcomes.flatMap((o) => [o.line, o.final === false ? 0 : 1, o.outcome]);
    const reply = await this.#redis.batchLlmCommit(this.#keys.done, this.#keys.results, this.#keys.stats, ...pairs);
    return reply.map((accepted) => accepted === 1);
  }

  /**
   * One exchange with the run's spend room (see SPEND): gives back `released`, turns `used` from
   * held into spent, and asks for `wanted` (or at least `least`).
   */
  async spend(holder: string, ask: Readonly<Record<'tokens' | 'cost', SpendAsk>>, liveMs: number): Promise<SpendReply> {
    this.#count('spend');
    const args = (['tokens', 'cost'] as const).flatMap((dim) => [ask[dim].released, ask[dim].used, ask[dim].wanted, ask[dim].least].map((x) => String(x)));
    const reply = await this.#redis.batchLlmSpend(this.#keys.spend, holder, ...args, String(liveMs));
    const at = (i: number): number => Number(reply[i] ?? 0);
    return { granted: { tokens: at(0), cost: at(1) }, spent: { tokens: at(2), cost: at(3) }, othersHold: at(4) === 1 };
  }

  /** Sets the run's spend caps (null: none) and starts its spend from 0; what processes hold stays held. */
  async setSpendCaps(maxTokens: number | null, maxCost: number | null): Promise<void> {
    await this.#redis.hset(this.#keys.spend, 'max_tokens', maxTokens === null ? '' : String(maxTokens), 'max_cost', maxCost === null ? '' : String(maxCost), 'spent_tokens', '0', 'spent_cost', '0');
  }

  /** What the run has spent (as far as processes have told), and its caps. */
  async spendState(): Promise<{ maxTokens: number | null; maxCost: number | null; spentTokens: number; spentCost: number }> {
    const [maxTokens, maxCost, spentTokens, spentCost] = await this.#redis.hmget(this.#keys.spend, 'max_tokens', 'max_cost', 'spent_tokens', 'spent_cost');
    const cap = (text: string | null | undefined): number | null => (text === null || text === undefined || text === '' ? null : Number(text));
    return { maxTokens: cap(maxTokens), maxCost: cap(maxCost), spentTokens: Number(spentTokens ?? 0), spentCost: Number(spentCost ?? 0) };
  }

  /** The lines among `lines` that have no final outcome yet. */
  async pending(lines: readonly number[]): Promise<number[]> {
    if (lines.length === 0) return [];
    this.#count('pending');
    return this.#redis.batchLlmPending(this.#keys.done, ...lines);
  }
}
