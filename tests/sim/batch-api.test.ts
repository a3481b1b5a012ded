// The simulator's Batch API through the official openai client: upload, create, poll, download,
// with lines that fail and expire drawn from the seed, a cancel, and the per-file request limit.
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();

function lines(n: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ custom_id: `c${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: `q${i}` }] } })).join('\n') + '\n';
}

async function upload(client: OpenAI, text: string): Promise<string> {
  const file = await client.files.create({ file: await toFile(Buffer.from(text), 'in.jsonl'), purpose: 'batch' });
  return file.id;
}

async function contentOf(client: OpenAI, id: string | null | undefined): Promise<Array<Record<string, unknown>>> {
  if (id === null || id === undefined) return [];
  const text = await (await client.files.content(id)).text();
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('simulator Batch API', () => {
  it('answers every line once, in the output or the error file, after the processing time', async () => {
    const sim = await start({ batch: { processingMs: 150, expireRate: 0.1, failRate: 0.1 } });
    const client = new OpenAI({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const fileId = await upload(client, lines(200));
    const created = await client.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(created.status).toBe('in_progress');
    expect(created.request_counts?.total).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const done = await client.batches.retrieve(created.id);
    expect(done.status).toBe('expired');
    const output = await contentOf(client, done.output_file_id);
    const errors = await contentOf(client, done.error_file_id);
    const ids = [...output, ...errors].map((line) => line['custom_id']).sort();
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => `c${i}`).sort());
    const expired = errors.filter((line) => (line['error'] as { code?: string } | null)?.code === 'batch_expired');
    const failed = errors.filter((line) => (line['response'] as { status_code?: number } | null)?.status_code === 500);
    expect(expired.length).toBeGreaterThan(5);
    expect(failed.length).toBeGreaterThan(5);
    expect(expired.length + failed.length).toBe(errors.length);
    expect(sim.batchStats).toMatchObject({ filesCreated: 1, batchesCreated: 1, linesAnswered: output.length, linesExpired: expired.length });
    const first = output[0]?.['response'] as { status_code: number; body: { object: string } };
    expect(first.status_code).toBe(200);
    expect(first.body.object).toBe('chat.completion');
    expect(sim.stats.requests).toBe(0);
  });

  it('cancels a batch in progress and fails one over the per-file limit', async () => {
    const sim = await start({ batch: { processingMs: 60_000, maxRequestsPerFile: 10 } });
    const client = new OpenAI({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const small = await client.batches.create({ input_file_id: await upload(client, lines(10)), endpoint: '/v1/chat/completions', completion_window: '24h' });
    const cancelled = await client.batches.cancel(small.id);
    expect(cancelled.status).toBe('cancelled');
    expect((await contentOf(client, cancelled.error_file_id)).length).toBe(10);
    const big = await client.batches.create({ input_file_id: await upload(client, lines(11)), endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(big.status).toBe('failed');
    expect(big.errors?.data?.[0]?.code).toBe('too_many_requests');
  });
});
