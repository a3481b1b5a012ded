// The four endpoints of the OpenAI Batch format, run by the library against the simulator over real
// HTTP: chat, text completions, embeddings and the Responses API — each answer checked as its
// endpoint's, its usage and cost counted, a 200 that is not its endpoint's answer failed, the
// cache keyed by endpoint, a schema task on text endpoints, and an item of another url refused.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BatchItem } from '../../src/model/outcome.js';
import { runBatch } from '../../src/run/run-batch.js';
import { categories, chatItem, expectOneResultEach } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

const start = useSimulator();
const fixture = (name: string) => new URL(`../fixtures/tasks/${name}.ts`, import.meta.url).pathname;

const embedding = (id: string, input: unknown, extra: Record<string, unknown> = {}): BatchItem => ({ custom_id: id, url: '/v1/embeddings', body: { model: 'sim-embed', input, ...extra } });
const completion = (id: string, prompt = id): BatchItem => ({ custom_id: id, url: '/v1/completions', body: { model: 'sim', prompt, max_tokens: 3 } });
const response = (id: string, input = id, cap: Record<string, unknown> = { max_output_tokens: 5 }): BatchItem => ({ custom_id: id, url: '/v1/responses', body: { model: 'sim', input, ...cap } });
/** Prices that make the cost easy to check: 1 per prompt token, 2 per completion token. */
const prices = { inputPerMillion: 1e6, outputPerMillion: 2e6 };

function usageOf(results: Awaited<ReturnType<typeof runBatch>>['results'], id: string) {
  const result = results.find((r) => r.custom_id === id);
  if (result === undefined) throw new Error(`no result for ${id}`);
  return result.stats.usage;
}

describe('the four endpoints against the simulator', () => {
  it('runs every endpoint of one batch at its own path, with its usage and cost, by endpoint', async () => {
    const sim = await start({ completionTokens: 4, embeddingDimensions: 8 });
    const items = [
      chatItem('chat-1'),
      completion('text-1'),
      embedding('embed-1', 'one text'),
      embedding('embed-2', ['first text', 'second, longer text'], { dimensions: 3 }),
      response('resp-1'),
    ];
    const { results, summary } = await runBatch({ items, baseURL: sim.url, prices, threads: 1 });
    expectOneResultEach(items, results);
    expect(categories(results)).toEqual({ ok: 5 });
    expect(sim.requests.map((r) => r.endpoint).sort()).toEqual(['chat', 'completions', 'embeddings', 'embeddings', 'responses']);

    const body = (id: string) => results.find((r) => r.custom_id === id)?.body as Record<string, unknown>;
    expect(body('embed-1')).toMatchObject({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: expect.any(Array) }] });
    const vectors = (body('embed-2')['data'] as Array<{ embedding: number[] }>).map((d) => d.embedding);
    expect(vectors.map((v) => v.length)).toEqual([3, 3]);
    expect((body('embed-1')['data'] as Array<{ embedding: number[] }>)[0]?.embedding).toHaveLength(8);
    expect(body('text-1')).toMatchObject({ object: 'text_completion', choices: [{ text: expect.any(String), finish_reason: 'length' }] });
    expect(body('resp-1')).toMatchObject({ object: 'response', status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text' }] }] });

    // Embeddings report prompt and total tokens only; the Responses API input and output tokens.
    const sent = new Map(sim.requests.map((r) => [r.key, r]));
    expect(sent.size).toBe(5);
    expect(usageOf(results, 'embed-1')).toEqual({ prompt: 2, completion: 0, total: 2, cached: 0, reasoning: 0 });
    expect(usageOf(results, 'embed-2')).toMatchObject({ prompt: 3 + 5, completion: 0, total: 8 });
    expect(usageOf(results, 'resp-1')).toMatchObject({ prompt: 2, completion: 4, total: 6 });
    expect(usageOf(results, 'text-1')).toMatchObject({ prompt: 2, completion: 3, total: 5 });

    expect(Object.keys(summary.by_endpoint)).toEqual(['chat', 'completions', 'embeddings', 'responses']);
    expect(summary.by_endpoint.embeddings).toEqual({ items: 2, succeeded: 2, tokens: { prompt: 10, completion: 0, total: 10, cached: 0, reasoning: 0 }, cost: 10 });
    expect(summary.by_endpoint.responses).toMatchObject({ items: 1, succeeded: 1, cost: 2 + 4 * 2 });
    expect(summary.by_endpoint.completions).toMatchObject({ items: 1, cost: 2 + 3 * 2 });
    const all = Object.values(summary.by_endpoint).reduce((sum, e) => sum + (e.cost ?? 0), 0);
    expect(summary.cost).toBeCloseTo(all, 9);
  });

  it('fails a 200 that is not an answer of its endpoint, for each endpoint, as transient invalid_response', async () => {
    const malformed = [{ output: 'malformed' as const }];
    const sim = await start({ faults: { scripts: { 'bad-chat': malformed, 'bad-text': malformed, 'bad-embed': malformed, 'bad-resp': malformed } } });
    const items = [chatItem('bad-chat'), completion('bad-text'), embedding('bad-embed', 'bad-embed'), response('bad-resp')];
    // One attempt each: the test is about how the answer is judged, not about the retry.
    const { results } = await runBatch({ items, baseURL: sim.url, maxAttempts: 1, threads: 1 });
    expectOneResultEach(items, results);
    for (const [id, field] of [['bad-chat', 'choices'], ['bad-text', 'choices'], ['bad-embed', 'data'], ['bad-resp', 'output']] as const) {
      const result = results.find((r) => r.custom_id === id);
      expect(result?.ok, id).toBe(false);
      if (result === undefined || result.ok) continue;
      expect([result.error.category, result.error.code, result.error.status]).toEqual(['transient', 'invalid_response', 200]);
      expect(result.error.message).toContain(`an empty "${field}" array`);
    }
    // The script's steps are played out: each second request is a real answer, so a retry succeeds.
    const again = await runBatch({ items: items.map((item) => ({ ...item, custom_id: `${item.custom_id}-again` })), baseURL: sim.url, threads: 1 });
    expect(categories(again.results)).toEqual({ ok: 4 });
  });

  it('answers an embedding from the cache the second time, and keeps endpoints apart in the key', async () => {
    const sim = await start();
    const cache = join(tempDir('batch-llm-endpoints-'), 'cache');
    const items = [embedding('e-1', 'the same text'), completion('t-1', 'the same text')];
    const first = await runBatch({ items, baseURL: sim.url, cache, threads: 1 });
    expect(categories(first.results)).toEqual({ ok: 2 });
    expect(sim.requests).toHaveLength(2);
    const second = await runBatch({ items: [...items, { ...completion('t-2', 'the same text'), url: '/v1/responses', body: { model: 'sim', input: 'the same text' } }], baseURL: sim.url, cache, threads: 1 });
    expect(categories(second.results)).toEqual({ ok: 3 });
    // Only the responses request was new.
    expect(sim.requests.map((r) => r.endpoint).sort()).toEqual(['completions', 'embeddings', 'responses']);
    const hit = second.results.find((r) => r.custom_id === 'e-1');
    expect(hit?.ok && hit.cached).toBe(true);
    expect(hit?.body).toEqual(first.results.find((r) => r.custom_id === 'e-1')?.body);
    expect(second.summary.saved_tokens.total).toBe(usageOf(first.results, 'e-1').total + usageOf(first.results, 't-1').total);
  });

  it('starts embeddings under a token cap at once: an embedding’s answer takes no tokens, so its worst case is known', async () => {
    // A chat item without max_tokens has no known worst case until one has finished (it would go
    // alone first); an embedding's is its input, so all eight go out together.
    const sim = await start({ latencyMs: 200 });
    const items = Array.from({ length: 8 }, (_, i) => embedding(`cap-${i}`, `text number ${i}`));
    const { results, summary } = await runBatch({ items, baseURL: sim.url, maxTokens: 1_000_000, concurrency: 8, threads: 1 });
    expect(categories(results)).toEqual({ ok: 8 });
    expect(sim.stats.maxInFlight).toBe(8);
    expect(summary.spend_cap).toMatchObject({ spent_tokens: summary.tokens.total, over_tokens: 0 });
  });

  it('refuses an item of another url as invalid_input naming it, and runs the rest', async () => {
    const sim = await start();
    const items: BatchItem[] = [{ custom_id: 'mod-1', url: '/v1/moderations', body: { input: 'x' } }, embedding('ok-1', 'x')];
    const { results } = await runBatch({ items, baseURL: sim.url, threads: 1 });
    const refused = results.find((r) => r.custom_id === 'mod-1');
    expect(refused?.ok).toBe(false);
    if (refused === undefined || refused.ok) return;
    expect(refused.error.category).toBe('invalid_input');
    expect(refused.error.message).toBe('item "mod-1": unsupported url "/v1/moderations" (expected one of /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses)');
    expect(refused.stats.attempts).toBe(0);
    expect(sim.requests.map((r) => r.endpoint)).toEqual(['embeddings']);
  });
});

describe('a task with a schema on each endpoint', () => {
  it('asks the Responses API and text completions for JSON, checks their text, and refuses embeddings without a request', async () => {
    const sim = await start();
    const items = [response('resp-json', 'resp-json', {}), completion('text-json'), embedding('embed-json', 'x')];
    const { results } = await runBatch({ items, baseURL: sim.url, task: fixture('schema-only'), threads: 1 });
    expectOneResultEach(items, results);
    const responses = results.find((r) => r.custom_id === 'resp-json');
    // The schema went as text.format, the simulator answered JSON, and its output_text passed the schema.
    expect(responses?.ok && responses.value).toEqual({ answer: expect.any(String) });
    expect(sim.requests.find((r) => r.key === 'resp-json')?.content).toBe('json');
    // A text completion has no structured-output field: its plain text is checked and fails the schema.
    const text = results.find((r) => r.custom_id === 'text-json');
    expect(text?.ok === false && text.error.category).toBe('invalid_output');
    const embed = results.find((r) => r.custom_id === 'embed-json');
    expect(embed?.ok === false && [embed.error.category, embed.error.message]).toEqual([
      'invalid_input',
      expect.stringMatching(/^item "embed-json": a task with a schema checks the text of answers, and \/v1\/embeddings answers with vectors/),
    ]);
    expect(sim.requests.filter((r) => r.endpoint === 'embeddings')).toHaveLength(0);
  });

  it('re-asks the Responses API with the invalid answer and the problem as input messages', async () => {
    const sim = await start({ faults: { scripts: { 'resp-reask': [{ output: 'schema_violation' }] } } });
    const { results } = await runBatch({ items: [response('resp-reask', 'resp-reask', {})], baseURL: sim.url, task: fixture('answer-schema'), threads: 1 });
    expect(categories(results)).toEqual({ ok: 1 });
    const result = results[0];
    expect(result?.stats.invalidOutputs).toBe(1);
    // The second request's key is its last user message: the feedback, not the original input.
    expect(sim.requests.map((r) => r.key)).toEqual(['resp-reask', expect.stringMatching(/^Your answer was invalid: /)]);
  });
});
