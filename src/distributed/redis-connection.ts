// Connections to the run's Redis from a URL: redis://[user:pass@]host:port[/db],
// rediss://… (TLS) and unix:///path/to/redis.sock. The password is part of the URL only; it is
// never stored in Redis and is removed from any message we print (see redactRedisUrl).

import type { Redis } from 'ioredis';
import { DistributedRunError, OptionsError } from '../model/errors.js';
import { libraries, loadDistributedLibraries } from './libraries.js';
import type { RedisOutage } from './redis-outage.js';

/** Where and how to connect (a subset of ioredis' options). */
export interface RedisTarget {
  path?: string;
  host?: string;
  port?: number;
  db?: number;
  username?: string;
  password?: string;
  tls?: { servername: string };
  /** null: commands wait for a reconnect instead of failing (what BullMQ's blocking calls need). */
  maxRetriesPerRequest: null;
}

/** ioredis options for a URL. */
export function redisOptions(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OptionsError(`Expected \`redis\` to be a redis://, rediss:// or unix:// URL, got \`${redactRedisUrl(url)}\``);
  }
  const auth = {
    ...(parsed.username !== '' ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password !== '' ? { password: decodeURIComponent(parsed.password) } : {}),
  };
  const common = { ...auth, maxRetriesPerRequest: null };
  if (parsed.protocol === 'unix:') return { ...common, path: decodeURIComponent(parsed.pathname) };
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new OptionsError(`Expected \`redis\` to be a redis://, rediss:// or unix:// URL, got \`${redactRedisUrl(url)}\``);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    ...common,
    host: parsed.hostname,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db: Number.isInteger(db) ? db : 0,
    ...(parsed.protocol === 'rediss:' ? { tls: { servername: parsed.hostname } } : {}),
  };
}

/**
 * A connection of the run, named in Redis (CLIENT LIST); its outages are told through `outage`.
 * After reachRedis (or loadDistributedLibraries), which loads ioredis.
 */
export function connect(url: string, name: string, outage: RedisOutage): Redis {
  const { Redis } = libraries();
  const redis = new Redis({ ...redisOptions(url), connectionName: name });
  outage.watch(redis, name);
  return redis;
}

/**
 * Connects once and pings, within `timeoutMs`, and throws a DistributedRunError naming the URL
 * (its password hidden) and the cause: a refused port, an unknown host, a TLS certificate that is
 * not trusted, a wrong password. The run's own connections (connect above) wait for Redis without
 * end, so that a run rides out a Redis restart; without this check, a Redis that cannot be reached
 * at all hung the command for good while ioredis printed its reconnect errors.
 */
export async function reachRedis(url: string, timeoutMs = 10_000): Promise<void> {
  const { Redis } = await loadDistributedLibraries();
  const probe = new Redis({ ...redisOptions(url), connectionName: 'batch-llm-probe', lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // The cause comes as an 'error' event; the rejection of connect() only says the connection closed.
  let cause: unknown = null;
  probe.on('error', (error: unknown) => (cause ??= error));
  // connectTimeout bounds the TCP connect only; this bounds the TLS handshake, AUTH and PING too.
  const timer = setTimeout(() => probe.disconnect(), timeoutMs);
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    const reason = cause ?? error;
    const text = reason instanceof Error ? reason.message : String(reason);
    throw new DistributedRunError(`cannot reach Redis at ${redactRedisUrl(url)}: ${redactRedisUrl(text)}`);
  } finally {
    clearTimeout(timer);
    // Not on a connection that already ended: ioredis would wait 2 s for a 'close' that came.
    if (probe.status !== 'end') probe.disconnect();
  }
}

/** The URL with its password replaced by `***`, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
