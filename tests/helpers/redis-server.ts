// A real redis-server for a test: on a unix socket in a temp dir, no port, no persistence.
// scripts/test-deps.sh installs redis-server when it is missing.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface TestRedis {
  url: string;
  socket: string;
  process: ChildProcess;
  client(): Redis;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'batch-llm-redis-'));
  const socket = join(dir, 'redis.sock');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const clients: Redis[] = [];
  // The socket appears once the server listens on it.
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start (is it installed? scripts/test-deps.sh)');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `unix://${socket}`,
    socket,
    process: child,
    client() {
      const redis = new Redis({ path: socket, maxRetriesPerRequest: null });
      clients.push(redis);
      return redis;
    },
    async stop() {
      for (const redis of clients) redis.disconnect();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
