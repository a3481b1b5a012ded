// Retries, budgets and categories in whole runs against the simulator.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../src/run/run-batch.js';
import { chatItem } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

/** Repeated scenarios start a pool per round; give them room on a loaded 2-core machine. */
const SLOW_MS = 180_000;
const start = useSimulator();

const quick429 = { status: 429, hint: { header: 'retry-after-ms' as const, ms: 30 } };

describe('retries and budgets', () => {
  it('retries 429s and 500s to one success each, fails 400s without a retry (10×)', async () => {
    for (let round = 0; round < 10; round += 1) {
      const scripts: Record<string, Array<number | typeof quick429>> = {};
      const items = [];
      for (let i = 0; i < 6; i += 1) {
        scripts[`rl-${i}`] = [quick429];
        scripts[`err-${i}`] = [500];
        scripts[`bad-${i}`] = [400];
        items.push(chatItem(`rl-${i}`), chatItem(`err-${i}`), chatItem(`bad-${i}`), chatItem(`plain-${i}`));
      }
      // Two rate limits, then a server error, then success: within maxAttempts 2, because the
      // rate-limit retries have their own budget.
      scripts['mixed'] = [quick429, quick429, 500, 200];
      items.push(chatItem('mixed'));
      const sim = await start({ latencyMs: 2, faults: { scripts } });

      const { summary, results } = await runBatch({
        items,
        baseURL: sim.url,
        concurrency: 8,
        threads: 2,
        maxAttempts: 2,
        backoffBaseMs: 5,
        rampJitterMs: 0,
      });

      expect(results).toHaveLength(items.length);
      const byId = new Map(results.map((r) => [r.custom_id, r]));
      for (let i = 0; i < 6; i += 1) {
        const bad = byId.get(`bad-${i}`);
        expect(bad?.ok).toBe(false);
        if (bad && !bad.ok) {
          expect(bad.error.category).toBe('bad_request');
          expect(bad.error.status).toBe(400);
          expect(bad.stats.attempts).toBe(1);
        }
        expect(byId.get(`rl-${i}`)).toMatchObject({ ok: true, stats: { attempts: 2, rateLimited: 1 } });
        expect(byId.get(`err-${i}`)).toMatchObject({ ok: true, stats: { attempts: 2, rateLimited: 0 } });
        expect(byId.get(`plain-${i}`)).toMatchObject({ ok: true, stats: { attempts: 1 } });
      }
      expect(byId.get('mixed')).toMatchObject({ ok: true, stats: { attempts: 4, rateLimited: 2 } });
      expect(summary).toMatchObject({ total: items.length, succeeded: items.length - 6, failed: 6, by_category: { bad_request: 6 } });
      // From the server's side: one request per 400, each success exactly once.
      for (let i = 0; i < 6; i += 1) expect(sim.requests.filter((r) => r.key === `bad-${i}`)).toHaveLength(1);
      const successes = sim.requests.filter((r) => r.status === 200).map((r) => r.key);
      expect(new Set(successes).size).toBe(successes.length);
      expect(summary.requests).toBe(sim.requests.length);
    }
  }, SLOW_MS);

  it('fails an item as transient once maxAttempts is used up, counting every attempt', async () => {
    const sim = await start({ faults: { scripts: { doomed: [500, 503, 500] } } });
    const { results } = await runBatch({ items: [chatItem('doomed')], baseURL: sim.url, threads: 1, maxAttempts: 3, backoffBaseMs: 1 });
    expect(results[0]).toMatchObject({ ok: false, error: { category: 'transient', status: 500 }, stats: { attempts: 3 } });
    expect(sim.requests).toHaveLength(3);
  });

  it('fails an item as rate_limit once its own 429 budget is used up, without touching maxAttempts', async () => {
    const sim = await start({ faults: { scripts: { hot: [quick429, quick429, quick429] } } });
    const { results, summary } = await runBatch({
      items: [chatItem('hot')],
      baseURL: sim.url,
      threads: 1,
      maxAttempts: 1,
      maxRateLimitRetries: 2,
      rampJitterMs: 0,
    });
    expect(results[0]).toMatchObject({ ok: false, error: { category: 'rate_limit', status: 429 }, stats: { attempts: 3, rateLimited: 3 } });
    expect(summary.cooldowns).toBe(3);
  });

  it('times out an attempt that never answers and retries it', async () => {
    const sim = await start({ faults: { scripts: { stuck: [{ kind: 'hang' }] } } });
    const { results } = await runBatch({
      items: [chatItem('stuck')],
      baseURL: sim.url,
      threads: 1,
      attemptTimeoutMs: 200,
      backoffBaseMs: 1,
    });
    expect(results[0]).toMatchObject({ ok: true, stats: { attempts: 2 } });
  });

  it('retries a reset connection as transient', async () => {
    const sim = await start({ faults: { scripts: { flaky: [{ kind: 'reset' }] } } });
    const { results } = await runBatch({ items: [chatItem('flaky')], baseURL: sim.url, threads: 1, backoffBaseMs: 1 });
    expect(results[0]).toMatchObject({ ok: true, stats: { attempts: 2 } });
  });

  it('fails an item whose connection is refused once maxAttempts is used up, instead of retrying forever', async () => {
    // Nothing listens here: every connection is refused before a request is written.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const { results } = await runBatch({ items: [chatItem('nobody')], baseURL: `http://127.0.0.1:${port}/v1`, threads: 1, maxAttempts: 2, backoffBaseMs: 1 });
    expect(results[0]).toMatchObject({ ok: false, error: { category: 'transient' }, stats: { attempts: 2 } });
    expect(results[0]?.ok === false && results[0].error.message).toContain('ECONNREFUSED');
  });

  it('sums tokens per item and for the batch, and never writes the key into results', async () => {
    const sim = await start({ completionTokens: 7, faults: { scripts: { twice: [500] } } });
    const apiKey = 'sk-test-secret-0123456789';
    const { results, summary } = await runBatch({
      items: [chatItem('twice'), chatItem('once')],
      baseURL: sim.url,
      apiKey,
      threads: 1,
      backoffBaseMs: 1,
      prices: { inputPerMillion: 0, outputPerMillion: 1_000_000 },
    });
    const once = results.find((r) => r.custom_id === 'once');
    expect(once?.stats.usage.completion).toBe(7);
    expect(summary.tokens.completion).toBe(14);
    expect(summary.cost).toBe(14); // one currency unit per completion token, at this price
    expect(JSON.stringify({ results, summary })).not.toContain(apiKey);
  });
});
