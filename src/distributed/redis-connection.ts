// Connections to the run's Redis from a URL: redis://[user:pass@]host:port[/db],
// rediss://… (TLS) and unix:///path/to/redis.sock. The password is part of the URL only; it is
// never stored in Redis and is removed from any message we print (see redactRedisUrl).

import { Redis } from 'ioredis';
import { OptionsError } from '../model/errors.js';

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

export function connect(url: string, name: string): Redis {
  return new Redis({ ...redisOptions(url), connectionName: name });
}

/** The URL with its password replaced by `***`, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
