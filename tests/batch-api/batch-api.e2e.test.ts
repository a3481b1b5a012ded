// `batch-llm run --via batch-api` end to end: the built CLI as a real process against the
// simulator's Batch API on 127.0.0.1 (files, batches, output and error files), kill -9 included.
// dist/ is built once for every test file by the global setup (tests/helpers/build-once.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSimulator } from '../helpers/simulator.js';
import { cli, readResults, shortItems, spawnCli, tempDir, writeJsonl } from '../cli/helpers.js';

const start = useSimulator();

const via = (url: string) => ['--base-url', url, '--model', 'm', '--via', 'batch-api', '--poll-interval', '50ms', '--no-progress'];

function categories(results: Awaited<ReturnType<typeof readResults>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of results) {
    const key = line.error === null ? 'ok' : line.error.code;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

async function waitForBatchIds(metaPath: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(metaPath, 'utf8').catch(() => '');
    if (text.includes('"batch_id"')) return;
    if (Date.now() > deadline) throw new Error(`${metaPath} never named a batch`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('--via batch-api', () => {
  it('splits 120,000 lines into 3 files of at most 50,000 and writes one line per item, sending no online request', async () => {
    const sim = await start({ batch: { processingMs: 50 }, completionTokens: 1, recordRequests: false });
    const dir = await tempDir();
    const input = join(dir, 'in.jsonl');
    await writeFile(input, Array.from({ length: 120_000 }, (_, i) => `{"custom_id":"${i}","prompt":"p"}`).join('\n') + '\n');
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, ...via(sim.url)]);
    expect(run.stderr).toContain('via batch-api');
    expect(run.code).toBe(0);
    expect(sim.batchStats).toMatchObject({ filesCreated: 3, batchesCreated: 3, linesAnswered: 120_000 });
    expect(sim.stats.requests).toBe(0);
    const results = await readResults(out);
    expect(results).toHaveLength(120_000);
    expect(new Set(results.map((line) => line.custom_id)).size).toBe(120_000);
    expect(categories(results)).toEqual({ ok: 120_000 });
    const meta = JSON.parse(await readFile(`${out}.meta.json`, 'utf8')) as { batch_api: { parts: Array<{ lines: number }> } };
    expect(meta.batch_api.parts.map((part) => part.lines)).toEqual([50_000, 50_000, 20_000]);
  }, 120_000);

  it('takes a base URL with a query (Azure\'s api-version): the query goes with every call, after the path', async () => {
    const sim = await start({ batch: { processingMs: 20 } });
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(3));
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, ...via(`${sim.url}?api-version=2024-10-21`)]);
    expect(run.code, run.stderr).toBe(0);
    expect(sim.batchStats).toMatchObject({ batchesCreated: 1, linesAnswered: 3 });
    expect(categories(await readResults(out))).toEqual({ ok: 3 });
  });

  it('submits one batch per endpoint for a file of embeddings and chat lines, with usage by endpoint', async () => {
    const sim = await start({ batch: { processingMs: 20 }, embeddingDimensions: 4 });
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), [
      ...Array.from({ length: 5 }, (_, i) => ({ custom_id: `e${i}`, prompt: `text ${i}` })),
      { custom_id: 'c0', url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: 'hi' }] } },
    ]);
    const out = join(dir, 'out.jsonl');
    const summaryPath = join(dir, 'summary.json');
    const run = await cli(['run', input, '-o', out, ...via(sim.url), '--endpoint', 'embeddings', '--summary', summaryPath]);
    expect(run.code, run.stderr).toBe(0);
    expect(sim.batchStats).toMatchObject({ batchesCreated: 2, linesAnswered: 6 });
    expect(sim.stats.requests).toBe(0);
    const results = await readResults(out);
    expect(categories(results)).toEqual({ ok: 6 });
    const vector = (results.find((line) => line.custom_id === 'e0')?.response?.body as { data: Array<{ embedding: number[] }> }).data[0]?.embedding;
    expect(vector).toHaveLength(4);
    const meta = JSON.parse(await readFile(`${out}.meta.json`, 'utf8')) as { batch_api: { parts: Array<{ url?: string; lines: number }> } };
    expect(meta.batch_api.parts.map((part) => [part.url ?? '/v1/chat/completions', part.lines]).sort()).toEqual([['/v1/chat/completions', 1], ['/v1/embeddings', 5]]);
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { by_endpoint: Record<string, { items: number; tokens: { completion: number; total: number } }> };
    expect(summary.by_endpoint['embeddings']).toMatchObject({ items: 5, tokens: { completion: 0, total: 10 } });
    expect(summary.by_endpoint['chat']).toMatchObject({ items: 1 });
  });

  it('resubmits expired and failed lines, and ends every item with exactly one line in the right category', async () => {
    const sim = await start({ batch: { processingMs: 20, expireRate: 0.3, failRate: 0.3 }, seed: 7 });
    const dir = await tempDir();
    const lines: unknown[] = shortItems(300);
    lines.push({ custom_id: 'no-messages', body: { model: 'm' } }, 'broken {');
    const input = await writeJsonl(join(dir, 'in.jsonl'), lines);
    const out = join(dir, 'out.jsonl');
    const summaryPath = join(dir, 'summary.json');
    const run = await cli(['run', input, '-o', out, ...via(sim.url), '--summary', summaryPath]);
    expect(run.code).toBe(1);
    const results = await readResults(out);
    expect(results).toHaveLength(302);
    expect(new Set(results.map((line) => line.custom_id)).size).toBe(302);
    const counts = categories(results);
    expect(counts['bad_request']).toBe(1);
    expect(counts['invalid_input']).toBe(1);
    // Three rounds at 0.3 + 0.3 × 0.7 ≈ 51 % unanswered per round leave about 13 % of 300 unanswered.
    expect(Object.keys(counts).sort()).toEqual(['bad_request', 'invalid_input', 'ok', 'timeout', 'transient']);
    expect(results.find((line) => line.custom_id === 'no-messages')?.response?.status_code).toBe(400);
    expect(sim.batchStats.batchesCreated).toBe(3);
    expect(sim.stats.requests).toBe(0);
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { total: number; succeeded: number; batch_api: { rounds: number } };
    expect(summary.total).toBe(302);
    expect(summary.succeeded).toBe(counts['ok']);
    expect(summary.batch_api.rounds).toBe(3);
  }, 60_000);

  it('finishes expired lines online with --finish-online', async () => {
    const sim = await start({ batch: { processingMs: 20, expireRate: 0.2 } });
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(200));
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, ...via(sim.url), '--finish-online']);
    expect(run.code).toBe(0);
    const results = await readResults(out);
    expect(results).toHaveLength(200);
    expect(categories(results)).toEqual({ ok: 200 });
    expect(sim.batchStats.batchesCreated).toBe(1);
    expect(sim.batchStats.linesExpired).toBeGreaterThan(10);
    expect(sim.stats.requests).toBe(sim.batchStats.linesExpired);
  }, 60_000);

  it('after kill -9 while polling, --resume re-attaches to the batch, submits nothing new and finishes', async () => {
    const sim = await start({ batch: { processingMs: 2_500 } });
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(500));
    const out = join(dir, 'out.jsonl');
    const first = spawnCli(['run', input, '-o', out, ...via(sim.url)]);
    await waitForBatchIds(`${out}.meta.json`);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    expect(sim.batchStats).toMatchObject({ filesCreated: 1, batchesCreated: 1 });
    const resumed = await cli(['run', input, '-o', out, ...via(sim.url), '--resume']);
    expect(resumed.code).toBe(0);
    expect(sim.batchStats).toMatchObject({ filesCreated: 1, batchesCreated: 1 });
    expect(sim.stats.requests).toBe(0);
    const results = await readResults(out);
    expect(results).toHaveLength(500);
    expect(categories(results)).toEqual({ ok: 500 });
  }, 60_000);

  it('--via auto with a deadline under 24 h runs online and says what the Batch API would have cost', async () => {
    const sim = await start();
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(20));
    const out = join(dir, 'out.jsonl');
    const summaryPath = join(dir, 'summary.json');
    const run = await cli(['run', input, '-o', out, '--base-url', sim.url, '--model', 'm', '--via', 'auto', '--deadline', '2h', '--no-progress', '--price-input', '2', '--price-output', '8', '--summary', summaryPath]);
    expect(run.code).toBe(0);
    expect(sim.stats.requests).toBe(20);
    expect(sim.batchStats.batchesCreated).toBe(0);
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { cost: number; via: { chosen: string; cost: number; cost_other_way: number } };
    expect(summary.via.chosen).toBe('online');
    expect(summary.via.cost_other_way).toBeCloseTo(summary.cost * 0.5, 9);
    expect(run.stderr).toMatch(/via online \(--via auto: the deadline \(2 h 00 m\) is shorter than the Batch API.s 24 h window\): cost .*; the Batch API would have cost/);
  }, 60_000);
});
