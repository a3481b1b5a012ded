// A real redis-server for a test: on a unix socket in a temp dir, no port, no persistence; or
// one that speaks only TLS, on a local port (startTlsRedis).
// scripts/test-deps.sh installs redis-server when it is missing.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface TestRedis {
  url: string;
  socket: string;
  client(): Redis;
  /** Stops the server, waits `downMs`, starts it again on the same socket: empty (no persistence). */
  restartEmpty(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** redis-server on `socket`, once it listens there (the socket appears). */
async function spawnRedis(dir: string, socket: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stopRedis(child);
      throw new Error('redis-server did not start (is it installed? scripts/test-deps.sh)');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'batch-llm-redis-'));
  const socket = join(dir, 'redis.sock');
  let child: ChildProcess;
  try {
    child = await spawnRedis(dir, socket);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const clients: Redis[] = [];
  return {
    url: `unix://${socket}`,
    socket,
    client() {
      const redis = new Redis({ path: socket, maxRetriesPerRequest: null });
      clients.push(redis);
      return redis;
    },
    async restartEmpty(downMs: number) {
      await stopRedis(child);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      child = await spawnRedis(dir, socket);
    },
    async stop() {
      for (const redis of clients) redis.disconnect();
      await stopRedis(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestTlsRedis {
  /** rediss://localhost:<port> */
  url: string;
  /** The server's self-signed certificate: trust it with NODE_EXTRA_CA_CERTS. */
  caFile: string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the OS's pick, then let go). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A redis-server speaking only TLS, with a self-signed certificate for localhost made by openssl
 * (scripts/test-deps.sh installs it). redis-server takes no port 0 for TLS, so a free port is
 * picked first.
 */
export async function startTlsRedis(): Promise<TestTlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'batch-llm-redis-tls-'));
  try {
    return await startTlsRedisIn(dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startTlsRedisIn(dir: string): Promise<TestTlsRedis> {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const port = await freePort();
  const child = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const listening = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (listening) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      await stopRedis(child);
      throw new Error('redis-server with TLS did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `rediss://localhost:${port}`,
    caFile: cert,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
