// The response cache across processes: two CLI runs at once share one cache directory, then a
// third reads everything back; and `batch-llm cache stats / prune`.

import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { cli, readResults, shortItems, spawnCli, tempDir, writeJsonl } from './helpers.js';

describe('batch-llm run --cache shared by processes', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ latencyMs: 2, latencyJitterMs: 5 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('two processes writing one cache at once lose and corrupt nothing; a third run sends nothing', async () => {
    const dir = await tempDir();
    const cache = join(dir, 'cache');
    const all = shortItems(900);
    const inA = await writeJsonl(join(dir, 'a.jsonl'), all.slice(0, 600));
    const inB = await writeJsonl(join(dir, 'b.jsonl'), all.slice(300));
    const common = ['--base-url', sim.url, '--cache', cache, '--concurrency', '32', '--threads', '2', '--no-progress'];
    const [a, b] = await Promise.all([
      spawnCli(['run', inA, '-o', join(dir, 'a.out.jsonl'), ...common]).done,
      spawnCli(['run', inB, '-o', join(dir, 'b.out.jsonl'), ...common]).done,
    ]);
    expect([a.code, a.stderr]).toEqual([0, expect.any(String)]);
    expect([b.code, b.stderr]).toEqual([0, expect.any(String)]);
    const sent = sim.requests.length;
    // Each process asked at most its own items; the overlap may have been asked by both.
    expect(sent).toBeGreaterThanOrEqual(900);
    expect(sent).toBeLessThanOrEqual(1200);

    const stats = await cli(['cache', 'stats', cache]);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ entries: 900 });

    // Both processes show one answer per item, whoever asked: where both asked at once, the one
    // stored second shows the answer stored first (response-cache.ts putIfAbsent).
    const [outA, outB] = [await readResults(join(dir, 'a.out.jsonl')), await readResults(join(dir, 'b.out.jsonl'))];
    expect([outA.length, outB.length]).toEqual([600, 600]);
    const received = new Map<string, Set<string>>();
    for (const line of [...outA, ...outB]) {
      const seen = received.get(line.custom_id ?? '') ?? new Set<string>();
      seen.add(JSON.stringify(line.response?.body));
      received.set(line.custom_id ?? '', seen);
    }
    expect([...received.values()].filter((answers) => answers.size > 1)).toEqual([]);
    const inAll = await writeJsonl(join(dir, 'all.jsonl'), all);
    const third = await cli(['run', inAll, '-o', join(dir, 'all.out.jsonl'), ...common, '--cache-mode', 'read-only']);
    expect(third.code).toBe(0);
    expect(sim.requests.length).toBe(sent);
    const lines = await readResults(join(dir, 'all.out.jsonl'));
    expect(lines).toHaveLength(900);
    for (const line of lines) {
      expect(line.batch_llm.cached).toBe(true);
      const stored = JSON.stringify(line.response?.body);
      expect([...(received.get(line.custom_id ?? '') ?? [])], `${line.custom_id ?? ''}: the cache holds ${stored}`).toEqual([stored]);
    }
    expect(third.stderr).toContain('cached 900 answers');

    const kept = await cli(['cache', 'prune', cache, '--older-than', '30d']);
    expect(JSON.parse(kept.stdout)).toMatchObject({ removed: 0, entries: 900 });
    const pruned = await cli(['cache', 'prune', cache, '--older-than', '0m']);
    expect(JSON.parse(pruned.stdout)).toMatchObject({ removed: 900, entries: 0 });
  }, 120_000);

  it('stores answers as redacted as the results file shows them: a base-URL password the server echoes is in neither', async () => {
    const dir = await tempDir();
    const cache = join(dir, 'cache');
    const password = 'Pw-of-the-gateway-0f9e';
    // The simulator echoes the request's model: a server that echoes a secret of its URL.
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(3).map((item) => ({ ...item, model: password })));
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, '--base-url', sim.url.replace('http://', `http://batch:${password}@`), '--cache', cache, '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    const lines = await readResults(out);
    expect(lines.map((line) => (line.response?.body as { model?: string } | undefined)?.model)).toEqual(['[redacted]', '[redacted]', '[redacted]']);

    const db = open({ path: cache, readOnly: true });
    try {
      const stored = [...db.getRange({})].map(({ value }) => JSON.stringify(value));
      expect(stored).toHaveLength(3);
      for (const entry of stored) {
        expect(entry).not.toContain(password);
        expect(entry).toContain('"model":"[redacted]"');
      }
    } finally {
      await db.close();
    }
  });
});
