// Reaching the run's Redis, with the built CLI: a distributed run over rediss:// (a real
// redis-server speaking only TLS, its certificate trusted through NODE_EXTRA_CA_CERTS), and a
// Redis that cannot be reached — an untrusted certificate, a refused port — refused at once with
// exit 2 and a message naming the URL (password hidden) and the cause, before anything is
// written. Before the check, both hung for good while ioredis printed its reconnect errors.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, readResults, shortItems, tempDir, writeJsonl } from '../cli/helpers.js';
import { freePort, startTlsRedis, type TestTlsRedis } from '../helpers/redis-server.js';

describe('the run\'s Redis', () => {
  let redis: TestTlsRedis;
  beforeAll(async () => {
    redis = await startTlsRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('runs over rediss:// when the server\'s certificate is trusted, each item once', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(30));
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, '--no-progress', '--redis', redis.url, '--run-id', 'tls'], { env: { NODE_EXTRA_CA_CERTS: redis.caFile } });
    expect(run.code, run.stderr).toBe(0);
    const results = await readResults(out);
    expect(results.map((r) => r.custom_id).sort()).toEqual(shortItems(30).map((item) => item.custom_id).sort());
    expect(results.every((r) => r.response?.status_code === 200)).toBe(true);
  });

  it('refuses rediss:// with an untrusted certificate: exit 2, the cause named, nothing written', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(3));
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, '--no-progress', '--redis', redis.url, '--run-id', 'untrusted']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot reach Redis at ${redis.url}: self-signed certificate`);
    expect(run.stderr).not.toContain('Unhandled error');
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a Redis that is not there, for run and for worker, and hides the password', async () => {
    const port = await freePort();
    const url = `redis://user:hunter2secret@127.0.0.1:${port}`;
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(3));
    const run = await cli(['run', input, '-o', join(dir, 'out.jsonl'), '--no-progress', '--redis', url, '--run-id', 'gone']);
    const worker = await cli(['worker', '--redis', url, '--run-id', 'gone']);
    for (const { code, stderr } of [run, worker]) {
      expect(code).toBe(2);
      expect(stderr).toContain(`cannot reach Redis at redis://user:***@127.0.0.1:${port}: connect ECONNREFUSED`);
      expect(stderr).not.toContain('hunter2secret');
    }
  });
});
