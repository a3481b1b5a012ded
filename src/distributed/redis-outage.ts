// What a process says while its Redis is away. ioredis reconnects on its own and our commands
// wait for it (maxRetriesPerRequest: null), so a Redis restart is ridden out; but every failed
// reconnect is an 'error' event on every connection — with no listener, ioredis prints each one
// with its stack ("[ioredis] Unhandled error event"), and BullMQ's queue objects pass them on
// too. Here the first error of an outage is told once, and its end once every connection that
// failed is ready again.

import type { Redis } from 'ioredis';

/** What can report a connection's errors: an ioredis connection, a BullMQ queue, worker or events. */
interface ErrorSource {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

// ENOENT: a unix socket whose server is not running (redis-server removes it as it stops).
const CONNECTION_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A lost or refused connection (told by the connection's own watch), not a command that failed. */
function isConnectionError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_CODES.has(code)) || error.message === 'Connection is closed.';
}

/**
 * The one reporter of a process's connections, by the function it tells through: a coordinator
 * that works items itself runs a worker in the same process with its own log, and one outage
 * must be told once, not once by each.
 */
const reporters = new WeakMap<(message: string) => void, RedisOutage>();

export function redisOutageFor(log: (message: string) => void): RedisOutage {
  let reporter = reporters.get(log);
  if (reporter === undefined) {
    reporter = new RedisOutage(log);
    reporters.set(log, reporter);
  }
  return reporter;
}

export class RedisOutage {
  readonly #log: (message: string) => void;
  /** Names of the connections that failed and are not ready again. */
  readonly #down = new Set<string>();

  constructor(log: (message: string) => void) {
    this.#log = log;
  }

  /** Watches one of the process's connections. */
  watch(connection: Redis, name: string): void {
    connection.on('error', (error: Error) => {
      if (this.#down.size === 0) this.#log(`redis: ${error.message}; waiting for it to come back`);
      this.#down.add(name);
    });
    connection.on('ready', () => {
      if (this.#down.delete(name) && this.#down.size === 0) this.#log('redis: reachable again');
    });
  }

  /** Tells what a queue object reports, except lost connections (told once by `watch`). */
  watchQueue(source: ErrorSource, what: string): void {
    source.on('error', (error) => {
      if (!isConnectionError(error)) this.#log(`${what}: ${error.message}`);
    });
  }
}
