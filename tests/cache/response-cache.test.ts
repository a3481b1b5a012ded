// The response cache in whole runs: real worker threads, real HTTP to the simulator, a real LMDB
// directory per test.
import { spawnSync } from 'node:child_process';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../src/run/run-batch.js';
import { ResponseCache } from '../../src/cache/response-cache.js';
import { canonicalJson, requestKey } from '../../src/cache/request-key.js';
import { endpointIdentity } from '../../src/model/redact.js';
import type { BatchItem } from '../../src/model/outcome.js';
import { chatItem, chatItems, expectEachSucceededOnce } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

const start = useSimulator();
const writer = new URL('../fixtures/cache-writer.ts', import.meta.url).pathname;
const cacheDir = async (): Promise<string> => tempDir('batch-llm-cache-');
const bodies = (results: ReadonlyArray<{ custom_id: string; body: unknown }>) =>
  Object.fromEntries(results.map((r) => [r.custom_id, r.body]));

describe('request keys', () => {
  it('ignore key order and credentials, and differ for any other change', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}');
    const endpoint = endpointIdentity('https://user:secret@api.example.com/v1/');
    expect(endpoint).toBe('https://api.example.com/v1');
    const key = requestKey(endpoint, '/chat/completions', { model: 'm', temperature: 1 });
    expect(requestKey(endpoint, '/chat/completions', { temperature: 1, model: 'm' })).toBe(key);
    expect(requestKey(endpoint, '/chat/completions', { temperature: 0, model: 'm' })).not.toBe(key);
    expect(requestKey(endpointIdentity('https://other.example.com/v1'), '/chat/completions', { model: 'm', temperature: 1 })).not.toBe(key);
    // A gateway's key in the query is a credential too (a rotated key is the same endpoint); its api-version is not.
    expect(endpointIdentity('https://api.example.com/v1?api-version=2024-10-21&key=gw-key-0123456789')).toBe('https://api.example.com/v1?api-version=2024-10-21');
  });
});

describe('response cache', () => {
  it('a rerun of the same input sends no request and gives identical values; tokens are saved, not spent', async () => {
    const sim = await start({ latencyMs: 1 });
    const cache = await cacheDir();
    // temperature > 0: cached too (the cache does not judge whether an answer could vary).
    const items: BatchItem[] = chatItems(40).map((item) => ({ ...item, body: { ...item.body, temperature: 0.9 } }));
    const first = await runBatch({ items, baseURL: sim.url, threads: 2, cache });
    expectEachSucceededOnce(items, first.results);
    expect(sim.requests).toHaveLength(40);
    expect(first.summary.cached).toBe(0);

    const second = await runBatch({ items, baseURL: sim.url, threads: 2, cache });
    expectEachSucceededOnce(items, second.results);
    expect(sim.requests).toHaveLength(40);
    expect(second.summary.requests).toBe(0);
    expect(second.summary.cached).toBe(40);
    expect(second.results.every((r) => r.ok && r.cached === true)).toBe(true);
    expect(bodies(second.results)).toEqual(bodies(first.results));
    expect(second.summary.tokens.total).toBe(0);
    expect(second.summary.saved_tokens.total).toBe(first.summary.tokens.total);
    expect(second.summary.saved_tokens.total).toBeGreaterThan(0);
  });

  it('100 items of which 50 identical, all in flight at once, send 51 requests', async () => {
    const sim = await start({ latencyMs: 150 });
    const cache = await cacheDir();
    // Interleaved, so the duplicates are spread over both threads' chunks.
    const items: BatchItem[] = Array.from({ length: 50 }, (_, i) => [chatItem(`same-${i}`, 'the same question'), chatItem(`unique-${i}`)]).flat();
    const { results, summary } = await runBatch({ items, baseURL: sim.url, threads: 2, concurrency: 100, rampJitterMs: 0, cache });
    expectEachSucceededOnce(items, results);
    expect(sim.requests).toHaveLength(51);
    expect(summary.requests).toBe(51);
    expect(summary.cached).toBe(49);
    const same = results.filter((r) => r.custom_id.startsWith('same-'));
    expect(new Set(same.map((r) => JSON.stringify(r.body))).size).toBe(1);
  });

  it('finds an answer another process stored after this thread began reading, in the same turn', async () => {
    const store = new ResponseCache(await cacheDir());
    try {
      // This read begins the thread's read snapshot, which lmdb-js keeps until its next timer phase.
      expect(store.get('the key')).toBeNull();
      // spawnSync blocks this thread: the other process commits while the snapshot is still the one above.
      const written = spawnSync(process.execPath, ['--import', 'tsx', writer, store.directory, 'the key'], { encoding: 'utf8' });
      expect(written.status, written.stderr).toBe(0);
      expect(store.get('the key')).toMatchObject({ status: 200, requestId: 'req-from-elsewhere', body: { answer: 42 } });
    } finally {
      await store.close();
    }
  });

  it('an answer stored elsewhere while the same request was on the wire is the one shown and kept', async () => {
    const sim = await start({ latencyMs: 300 });
    const cache = await cacheDir();
    const item = chatItem('raced');
    const running = runBatch({ items: [item], baseURL: sim.url, threads: 1, cache });
    while (sim.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // Another process (another run sharing the cache, or a dead thread's store landing late) stores
    // its answer to the same request first. spawnSync blocks this thread, the simulator's too: the
    // answer to our request is written only after the other store committed.
    const key = requestKey(endpointIdentity(sim.url), '/chat/completions', item.body ?? {});
    const written = spawnSync(process.execPath, ['--import', 'tsx', writer, cache, key], { encoding: 'utf8' });
    expect(written.status, written.stderr).toBe(0);
    const { results, summary } = await running;
    expect(sim.requests).toHaveLength(1);
    // The result shows what the cache holds, and the tokens our own answer cost were spent.
    expect(results[0]).toMatchObject({ ok: true, requestId: 'req-from-elsewhere', body: { answer: 42 } });
    expect(summary.tokens.total).toBeGreaterThan(0);
    const store = new ResponseCache(cache);
    expect(store.get(key)).toMatchObject({ requestId: 'req-from-elsewhere', body: { answer: 42 } });
    await store.close();
  });

  it('a cached answer that fails validation is re-asked past the cache and replaced by the valid one', async () => {
    const sim = await start({ latencyMs: 1 });
    const cache = await cacheDir();
    const task = new URL('../fixtures/tasks/schema-only.ts', import.meta.url).pathname;
    const items = [chatItem('checked')];
    const first = await runBatch({ items, baseURL: sim.url, threads: 1, cache, task });
    expectEachSucceededOnce(items, first.results);
    // Spoil the stored answer (schema-only re-asks without feedback: the same request again).
    const store = new ResponseCache(cache);
    const raw = open({ path: cache });
    const [key] = [...(raw.getKeys() as Iterable<string>)];
    await raw.close();
    if (key === undefined) throw new Error('nothing was stored');
    await store.put(key, { status: 200, requestId: 'spoilt', body: { answer: 42 } });
    const second = await runBatch({ items, baseURL: sim.url, threads: 1, cache, task });
    expectEachSucceededOnce(items, second.results);
    expect(second.results[0]).toMatchObject({ stats: { invalidOutputs: 1 } });
    expect(sim.requests).toHaveLength(2);
    // The new answer replaced the spoilt one: the next run takes it from the cache.
    expect(store.get(key)?.requestId).not.toBe('spoilt');
    const third = await runBatch({ items, baseURL: sim.url, threads: 1, cache, task, cacheMode: 'read-only' });
    expectEachSucceededOnce(items, third.results);
    expect(third.summary.cached).toBe(1);
    expect(sim.requests).toHaveLength(2);
    await store.close();
  });

  it('refresh sends every request again and overwrites; read-only stores nothing', async () => {
    const sim = await start({ latencyMs: 1 });
    const cache = await cacheDir();
    const items = chatItems(20);
    await runBatch({ items, baseURL: sim.url, threads: 2, cache, cacheMode: 'read-only' });
    expect(sim.requests).toHaveLength(20);
    const store = new ResponseCache(cache);
    expect(store.stats().entries).toBe(0);

    await runBatch({ items, baseURL: sim.url, threads: 2, cache });
    expect(sim.requests).toHaveLength(40);
    const refreshed = await runBatch({ items, baseURL: sim.url, threads: 2, cache, cacheMode: 'refresh' });
    expect(sim.requests).toHaveLength(60);
    expect(refreshed.summary.cached).toBe(0);
    expect(store.stats().entries).toBe(20);
    // What refresh stored is what the next run answers with.
    const after = await runBatch({ items, baseURL: sim.url, threads: 2, cache, cacheMode: 'read-only' });
    expect(sim.requests).toHaveLength(60);
    expect(bodies(after.results)).toEqual(bodies(refreshed.results));
    await store.close();
  });
});
