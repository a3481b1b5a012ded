// The four endpoints through the built CLI against a simulator in this process: a file that mixes
// them, short-form lines with --endpoint, usage and cost by endpoint in the summary, a malformed 200
// per endpoint, the cache for embeddings, and what is refused (a url of no endpoint; a bad --endpoint).
// dist/ is built once for every test file by the global setup (tests/helpers/build-once.ts).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { cli, readResults, tempDir, writeJsonl } from './helpers.js';

describe('batch-llm run on every endpoint', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      completionTokens: 4,
      embeddingDimensions: 6,
      faults: { scripts: { 'bad chat': [{ output: 'malformed' }], 'bad text': [{ output: 'malformed' }], 'bad embed': [{ output: 'malformed' }], 'bad resp': [{ output: 'malformed' }] } },
    });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('runs a file that mixes the four endpoints and short-form embeddings, with usage and cost by endpoint', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), [
      { custom_id: 'e-short', prompt: 'embed me', dimensions: 3 },
      { custom_id: 'e-full', method: 'POST', url: '/v1/embeddings', body: { input: ['one', 'two'] } },
      { custom_id: 'c-1', url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: 'chat' }], max_tokens: 4 } },
      { custom_id: 't-1', url: '/v1/completions', body: { prompt: 'text', max_tokens: 2 } },
      { custom_id: 'r-1', url: '/v1/responses', body: { input: 'respond', max_output_tokens: 4 } },
      { custom_id: 'm-1', url: '/v1/moderations', body: { input: 'x' } },
    ]);
    const out = join(dir, 'out.jsonl');
    const summaryPath = join(dir, 's.json');
    const { code, stderr } = await cli(['run', input, '-o', out, '--base-url', sim.url, '--endpoint', 'embeddings', '--price-input', '1000000', '--price-output', '2000000', '--summary', summaryPath, '--no-progress']);
    expect(code, stderr).toBe(1);
    const results = new Map((await readResults(out)).map((r) => [r.custom_id, r]));
    expect(results.size).toBe(6);
    // The short-form line became an embeddings body: its prompt is the input, its dimensions went along.
    expect(results.get('e-short')).toMatchObject({ error: null, response: { status_code: 200, body: { object: 'list', data: [{ embedding: expect.any(Array) }] } } });
    const vector = (results.get('e-short')?.response?.body as { data: Array<{ embedding: number[] }> }).data[0]?.embedding;
    expect(vector).toHaveLength(3);
    expect(results.get('e-full')?.batch_llm.usage).toEqual({ prompt: 2, completion: 0, total: 2, cached: 0, reasoning: 0 });
    expect(results.get('t-1')).toMatchObject({ error: null, response: { body: { object: 'text_completion' } }, batch_llm: { usage: { completion: 2 } } });
    expect(results.get('r-1')).toMatchObject({ error: null, response: { body: { object: 'response' } }, batch_llm: { usage: { prompt: 2, completion: 4, total: 6 } } });
    expect(results.get('m-1')?.error).toEqual({
      code: 'invalid_input',
      message: `${input}:6: unsupported url "/v1/moderations" (expected one of /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses)`,
    });

    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { by_endpoint: Record<string, { items: number; tokens: { total: number }; cost: number }> };
    expect(Object.keys(summary.by_endpoint)).toEqual(['chat', 'completions', 'embeddings', 'responses']);
    // e-short: "embed me" is 2 tokens, e-full 1 + 1: 4 tokens at 1 each.
    expect(summary.by_endpoint['embeddings']).toMatchObject({ items: 2, tokens: { total: 4 }, cost: 4 });
    expect(summary.by_endpoint['responses']).toMatchObject({ items: 1, cost: 2 + 4 * 2 });
    expect(stderr).toMatch(/by endpoint: chat 1 items, \d+ tokens, cost [\d.]+; completions 1 items, .*; embeddings 2 items, 4 tokens, cost 4(\.0+)?; responses 1 items, 6 tokens/);

    // Each line says its endpoint (chat lines need not), and `batch-llm report` counts by it.
    expect(results.get('e-full')?.batch_llm.endpoint).toBe('embeddings');
    expect(results.get('c-1')?.batch_llm.endpoint).toBeUndefined();
    const report = await cli(['report', out]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/by endpoint: chat 1 items, \d+ tokens; completions 1 items, \d+ tokens; embeddings 2 items, 4 tokens; responses 1 items, 6 tokens/);
  });

  it('fails a 200 that is not an answer of its endpoint as transient (invalid_response), for each endpoint', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), [
      { custom_id: 'chat', prompt: 'bad chat' },
      { custom_id: 'text', url: '/v1/completions', body: { prompt: 'bad text' } },
      { custom_id: 'embed', url: '/v1/embeddings', body: { input: 'bad embed' } },
      { custom_id: 'resp', url: '/v1/responses', body: { input: 'bad resp' } },
    ]);
    const out = join(dir, 'out.jsonl');
    const { code } = await cli(['run', input, '-o', out, '--base-url', sim.url, '--max-attempts', '1', '--no-progress']);
    expect(code).toBe(1);
    const results = await readResults(out);
    expect(results).toHaveLength(4);
    for (const line of results) {
      expect(line.error?.code, line.custom_id ?? '').toBe('transient');
      expect(line.error?.message).toMatch(/the server answered 2xx with an empty "(choices|data|output)" array: not a result of \/(chat\/completions|completions|embeddings|responses)/);
      // The 200 and its body are kept as the evidence.
      expect(line.response?.status_code).toBe(200);
    }
  });

  it('answers embeddings from the cache on a second run, sending nothing', async () => {
    const dir = await tempDir();
    const cache = join(dir, 'cache');
    const input = await writeJsonl(
      join(dir, 'in.jsonl'),
      Array.from({ length: 5 }, (_, i) => ({ custom_id: `e-${i}`, prompt: `cached text ${i}` })),
    );
    const args = (out: string) => ['run', input, '-o', join(dir, out), '--base-url', sim.url, '--endpoint', 'embeddings', '--cache', cache, '--no-progress'];
    const first = await cli(args('a.jsonl'));
    expect(first.code, first.stderr).toBe(0);
    const sent = sim.stats.requests;
    const second = await cli(args('b.jsonl'));
    expect(second.code, second.stderr).toBe(0);
    expect(sim.stats.requests).toBe(sent);
    const a = new Map((await readResults(join(dir, 'a.jsonl'))).map((r) => [r.custom_id, r.response?.body]));
    for (const line of await readResults(join(dir, 'b.jsonl'))) {
      expect(line.batch_llm.cached).toBe(true);
      expect(line.response?.body).toEqual(a.get(line.custom_id));
    }
  });

  it('refuses an unknown --endpoint with exit 2, naming the choices', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), [{ custom_id: 'a', prompt: 'x' }]);
    const { code, stderr } = await cli(['run', input, '-o', join(dir, 'out.jsonl'), '--base-url', sim.url, '--endpoint', 'moderations']);
    expect(code).toBe(2);
    expect(stderr).toContain('--endpoint: expected chat, completions, embeddings, responses, got "moderations"');
  });

  it('documents --endpoint and the four urls in --help', async () => {
    const { code, stdout } = await cli(['run', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--endpoint <name>\s+endpoint of lines that name no "url"/);
    expect(stdout).toContain('(default: chat)');
    expect(stdout).toContain('/v1/completions, /v1/embeddings, /v1/responses');
  });
});
