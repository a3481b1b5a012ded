// A Redis restart under the run's connections (a real redis-server, stopped and started again on
// the same socket): the process says once that Redis is away and once that it is back, and
// ioredis prints nothing of its own. Before, every failed reconnect of every connection printed
// "[ioredis] Unhandled error event" with its stack, and BullMQ's queue objects printed theirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { loadDistributedLibraries } from '../../src/distributed/libraries.js';
import { connect } from '../../src/distributed/redis-connection.js';
import { redisOutageFor } from '../../src/distributed/redis-outage.js';
import { tempDir } from '../helpers/temp-dir.js';

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function startServer(dir: string, socket: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await until(() => existsSync(socket) || child.exitCode !== null, 'redis-server to listen');
  if (child.exitCode !== null) throw new Error('redis-server did not start (is it installed? scripts/test-deps.sh)');
  return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('a Redis restart under the run\'s connections', () => {
  const dir = tempDir('batch-llm-redis-outage-');
  const socket = join(dir, 'redis.sock');
  let server: ChildProcess | null = null;
  const connections: Redis[] = [];
  // connect() is what a run calls after its entry point loaded ioredis.
  beforeAll(async () => {
    await loadDistributedLibraries();
  });
  afterEach(async () => {
    for (const redis of connections) redis.disconnect();
    if (server !== null && server.exitCode === null) await stopServer(server);
    vi.restoreAllMocks();
  });

  it('is told once when Redis goes away and once when it is back, and ioredis prints nothing', async () => {
    server = await startServer(dir, socket);
    const said: string[] = [];
    const log = (message: string): void => void said.push(message);
    // Two parts of one process telling through the same log (a coordinator and its local
    // worker) share one reporter: the outage is told once, not once by each.
    connections.push(connect(`unix://${socket}`, 'coordinator', redisOutageFor(log)), connect(`unix://${socket}`, 'coordinator-queue', redisOutageFor(log)));
    connections.push(connect(`unix://${socket}`, 'worker', redisOutageFor(log)));
    await Promise.all(connections.map((redis) => redis.ping()));
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});

    await stopServer(server);
    await until(() => said.length > 0, 'the outage to be told');
    // Several reconnects fail meanwhile (ioredis retries after 50, 100, 150 … ms).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    server = await startServer(dir, socket);
    await until(() => said.includes('redis: reachable again'), 'the end of the outage to be told');
    await Promise.all(connections.map((redis) => redis.ping()));

    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(/^redis: .+; waiting for it to come back$/);
    expect(said[1]).toBe('redis: reachable again');
    expect(printed).not.toHaveBeenCalled();
  });
});
