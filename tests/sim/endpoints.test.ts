// The simulator's other endpoints over real HTTP: /v1/embeddings (deterministic unit vectors of a
// configurable dimension, as floats or base64, with usage), /v1/completions and /v1/responses, the
// 400s of malformed requests, the same rate limits and scripts as chat, and the Batch API for them.
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/index.js';
import { useSimulator } from '../helpers/simulator.js';
import { field } from './http.js';

const start = useSimulator();

async function post(sim: Simulator, path: string, body: Record<string, unknown>): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as unknown };
}

function vectorOf(json: unknown, index = 0): number[] {
  const vector = field(json, 'data', index, 'embedding');
  if (!Array.isArray(vector)) throw new Error(`no vector at data[${index}]`);
  return vector.map(Number);
}

describe('simulator /v1/embeddings', () => {
  it('answers one unit vector per input, the same for the same text, of the configured or requested dimension', async () => {
    const sim = await start({ embeddingDimensions: 16, seed: 7 });
    const one = await post(sim, '/embeddings', { model: 'e', input: ['alpha', 'beta', 'alpha'] });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ object: 'list', model: 'e', data: [{ object: 'embedding', index: 0 }, { index: 1 }, { index: 2 }], usage: { prompt_tokens: 2 + 1 + 2, total_tokens: 5 } });
    const [a, b, again] = [vectorOf(one.json, 0), vectorOf(one.json, 1), vectorOf(one.json, 2)];
    expect(a).toHaveLength(16);
    expect(again).toEqual(a);
    expect(b).not.toEqual(a);
    expect(Math.hypot(...a)).toBeCloseTo(1, 4);
    const small = await post(sim, '/embeddings', { input: 'alpha', dimensions: 4 });
    expect(vectorOf(small.json)).toHaveLength(4);
    expect(sim.requests.map((r) => [r.endpoint, r.content])).toEqual([['embeddings', 'embedding'], ['embeddings', 'embedding']]);
  });

  it('sends base64 float32 vectors for encoding_format "base64", the same numbers as the floats', async () => {
    const sim = await start({ embeddingDimensions: 8 });
    const floats = vectorOf((await post(sim, '/embeddings', { input: 'gamma' })).json);
    const encoded = field((await post(sim, '/embeddings', { input: 'gamma', encoding_format: 'base64' })).json, 'data', 0, 'embedding');
    expect(typeof encoded).toBe('string');
    const bytes = Buffer.from(String(encoded), 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(decoded).toHaveLength(8);
    decoded.forEach((value, i) => expect(value).toBeCloseTo(floats[i] ?? NaN, 5));
  });

  it('refuses a request without input, or with a dimension or format it cannot give, with a 400 naming the parameter', async () => {
    const sim = await start();
    for (const [body, param] of [[{ model: 'e' }, 'input'], [{ input: [{}] }, 'input'], [{ input: 'x', dimensions: 0 }, 'dimensions'], [{ input: 'x', encoding_format: 'int8' }, 'encoding_format']] as const) {
      const reply = await post(sim, '/embeddings', body);
      expect([reply.status, field(reply.json, 'error', 'param')]).toEqual([400, param]);
    }
  });

  it('counts embeddings in the RPM window and plays scripts on their input, like chat', async () => {
    const sim = await start({ rpm: 60, rateWindowMs: 1_000, faults: { scripts: { 'scripted input': [503] } } });
    expect((await post(sim, '/embeddings', { input: 'first' })).status).toBe(200);
    const limited = await post(sim, '/embeddings', { input: 'second' });
    expect(limited.status).toBe(429);
    expect(field(limited.json, 'error', 'message')).toMatch(/Rate limit reached for requests/);
    expect((await post(sim, '/embeddings', { input: 'scripted input' })).status).toBe(503);
  });
});

describe('simulator /v1/completions and /v1/responses', () => {
  it('answers a text completion and a response with their usage, cut off at their own caps', async () => {
    const sim = await start({ completionTokens: 6 });
    const text = await post(sim, '/completions', { model: 't', prompt: 'Once upon a time', max_tokens: 3 });
    expect(text).toMatchObject({ status: 200, json: { object: 'text_completion', choices: [{ index: 0, finish_reason: 'length' }], usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } } });
    expect(String(field(text.json, 'choices', 0, 'text')).split(' ')).toHaveLength(3);
    const whole = await post(sim, '/responses', { model: 'r', input: [{ role: 'user', content: 'Say hi' }], instructions: 'be brief' });
    expect(whole).toMatchObject({
      status: 200,
      json: { object: 'response', status: 'completed', incomplete_details: null, output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text' }] }], usage: { output_tokens: 6 } },
    });
    const cut = await post(sim, '/responses', { input: 'Say hi', max_output_tokens: 2 });
    expect(cut.json).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage: { input_tokens: 2, output_tokens: 2, total_tokens: 4 } });
  });

  it('answers a Responses API json_schema text.format with JSON of that schema', async () => {
    const sim = await start();
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const reply = await post(sim, '/responses', { input: 'Where?', text: { format: { type: 'json_schema', name: 'place', schema } } });
    const text = String(field(reply.json, 'output', 0, 'content', 0, 'text'));
    expect(JSON.parse(text)).toEqual({ city: expect.any(String) });
  });
});

describe('simulator Batch API for the other endpoints', () => {
  it('runs an embeddings batch, and refuses a line for another endpoint than the batch’s', async () => {
    const sim = await start({ batch: { processingMs: 0 }, embeddingDimensions: 4 });
    const client = new OpenAI({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const text = [
      { custom_id: 'e1', method: 'POST', url: '/v1/embeddings', body: { model: 'e', input: 'one' } },
      { custom_id: 'c1', method: 'POST', url: '/v1/chat/completions', body: { model: 'e', messages: [{ role: 'user', content: 'x' }] } },
    ].map((line) => JSON.stringify(line)).join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(`${text}\n`), 'in.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    const done = await client.batches.retrieve(created.id);
    expect(done.status).toBe('completed');
    const read = async (id: string | null | undefined) => (id ? (await (await client.files.content(id)).text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown) : []);
    const [output, errors] = [await read(done.output_file_id), await read(done.error_file_id)];
    expect(output).toEqual([expect.objectContaining({ custom_id: 'e1', response: expect.objectContaining({ status_code: 200, body: expect.objectContaining({ object: 'list', usage: { prompt_tokens: 1, total_tokens: 1 } }) }) })]);
    expect(field(output[0], 'response', 'body', 'data', 0, 'embedding')).toHaveLength(4);
    expect(errors).toEqual([expect.objectContaining({ custom_id: 'c1', response: expect.objectContaining({ status_code: 400 }) })]);
  });
});
