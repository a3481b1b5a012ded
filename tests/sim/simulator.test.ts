import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { startSimulator } from '../../src/sim/index.js';
import { useSimulator } from '../helpers/simulator.js';
import { chat, eventually, field, sleep } from './http.js';

const start = useSimulator();

describe('simulator: the success path', () => {
  it('answers a chat completion with usage, request id and the echoed model through the openai client', async () => {
    const s = await start({ completionTokens: 7 });
    const client = new OpenAI({ baseURL: s.url, apiKey: 'test', maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({
        model: 'my-model',
        messages: [
          { role: 'system', content: 'Be brief.' }, // 9 chars
          { role: 'user', content: 'What is the capital of France?' }, // 30 chars
        ],
      })
      .withResponse();
    expect(response.headers.get('x-request-id')).toBe('req_sim_0');
    expect(data.id).toBe('chatcmpl-sim-0');
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('my-model');
    expect(data.choices[0]?.message.role).toBe('assistant');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.choices[0]?.message.content?.split(' ')).toHaveLength(7);
    // ceil(39 / 4) + 3 per message
    expect(data.usage).toEqual({
      prompt_tokens: 16,
      completion_tokens: 7,
      total_tokens: 23,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(s.requests).toEqual([
      expect.objectContaining({
        seq: 0,
        status: 200,
        outcome: 'ok',
        cause: 'normal',
        inFlightAtArrival: 1,
        key: 'What is the capital of France?',
        clientAborted: false,
      }),
    ]);
  });

  it('caps completion tokens by max_tokens and keys text-part messages by their concatenated text', async () => {
    const s = await start();
    const reply = await chat(s, '', {
      body: {
        max_tokens: 3,
        messages: [
          { role: 'user', content: 'first question' },
          { role: 'assistant', content: 'an answer' },
          { role: 'user', content: [{ type: 'text', text: 'second ' }, { type: 'text', text: 'question' }] },
        ],
      },
    });
    expect(field(reply.json, 'usage', 'completion_tokens')).toBe(3);
    expect(s.requests[0]?.key).toBe('second question');
  });

  it('gives the same key the same content, and other keys other content', async () => {
    const s = await start();
    const content = async (key: string): Promise<unknown> =>
      field((await chat(s, key)).json, 'choices', 0, 'message', 'content');
    expect(await content('same')).toBe(await content('same'));
    expect(await content('same')).not.toBe(await content('different'));
  });

  it('answers after latencyMs', async () => {
    const s = await start({ latencyMs: 60 });
    await chat(s, 'slow');
    const record = s.requests[0];
    expect((record?.answeredAt ?? 0) - (record?.arrivedAt ?? 0)).toBeGreaterThanOrEqual(60);
  });

  it('counts requests in flight at arrival', async () => {
    const s = await start({ latencyMs: 100 });
    await Promise.all([chat(s, 'a'), chat(s, 'b'), chat(s, 'c')]);
    expect(s.requests.map((r) => r.inFlightAtArrival).sort()).toEqual([1, 2, 3]);
    expect(s.stats).toMatchObject({ requests: 3, ok: 3, inFlight: 0, maxInFlight: 3 });
  });

  it('lists its model', async () => {
    const s = await start({ model: 'sim-x' });
    const client = new OpenAI({ baseURL: s.url, apiKey: 'test', maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['sim-x']);
  });
});

describe('simulator: invalid requests', () => {
  it('answers 400 with an OpenAI-shaped body for bad JSON and missing messages', async () => {
    const s = await start();
    const bad = await fetch(`${s.url}/chat/completions`, { method: 'POST', body: '{"model": ' });
    expect(bad.status).toBe(400);
    expect(field(await bad.json(), 'error')).toEqual({
      message: expect.stringContaining('could not parse the JSON body') as unknown,
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
    const missing = await chat(s, 'x', { body: { messages: undefined } });
    expect(missing.status).toBe(400);
    expect(field(missing.json, 'error', 'param')).toBe('messages');
    expect(s.requests.map((r) => [r.status, r.outcome, r.cause])).toEqual([
      [400, 'error', 'invalid_request'],
      [400, 'error', 'invalid_request'],
    ]);
  });

  it('answers 404 for other paths, without recording them', async () => {
    const s = await start();
    const response = await fetch(`${s.url}/moderations`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(field(await response.json(), 'error', 'message')).toBe('Invalid URL (POST /v1/moderations)');
    expect(s.requests).toHaveLength(0);
  });
});

describe('simulator: API key', () => {
  it('refuses requests without the right bearer key, and never echoes the key', async () => {
    const s = await start({ apiKey: 'sk-secret-123' });
    const none = await chat(s, 'a');
    const wrong = await chat(s, 'b', { headers: { authorization: 'Bearer sk-wrong' } });
    const right = await chat(s, 'c', { headers: { authorization: 'Bearer sk-secret-123' } });
    expect([none.status, wrong.status, right.status]).toEqual([401, 401, 200]);
    expect(field(none.json, 'error', 'code')).toBe('invalid_api_key');
    expect(JSON.stringify(wrong.json)).not.toContain('sk-secret-123');
    expect(s.requests.map((r) => r.cause)).toEqual(['auth', 'auth', 'normal']);

    const client = new OpenAI({ baseURL: s.url, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'm', messages: [] })).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });
});

describe('simulator: random faults', () => {
  it('draws faults from the seed: the same seed gives the same sequence', async () => {
    const statuses = async (seed: number): Promise<number[]> => {
      const s = await startSimulator({ seed, faults: { rates: { error500: 0.3, error503: 0.3 } } });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await chat(s, `k${i}`)).status);
      await s.close();
      return out;
    };
    const first = await statuses(42);
    expect(await statuses(42)).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 500, 503]));
  });

  it('draws latency jitter from the seed', async () => {
    const latencies = async (): Promise<number[]> => {
      const s = await startSimulator({ seed: 3, latencyMs: 10, latencyJitterMs: 30 });
      for (let i = 0; i < 5; i++) await chat(s, `k${i}`);
      await s.close();
      for (const r of s.requests) expect((r.answeredAt ?? 0) - r.arrivedAt).toBeGreaterThanOrEqual(r.delayMs ?? Infinity);
      return s.requests.map((r) => r.delayMs ?? -1);
    };
    const first = await latencies();
    expect(await latencies()).toEqual(first);
    for (const ms of first) {
      expect(ms).toBeGreaterThanOrEqual(10);
      expect(ms).toBeLessThan(40);
    }
    expect(new Set(first).size).toBe(5);
  });
});

describe('simulator: resets, hangs, aborts and close', () => {
  it('resets the connection without answering', async () => {
    const s = await start({ faults: { rates: { reset: 1 } } });
    await expect(chat(s, 'r')).rejects.toThrow(TypeError); // fetch failed: connection reset
    expect(s.requests[0]).toMatchObject({ outcome: 'reset', status: null, answeredAt: null, cause: 'random' });
    expect(s.stats.resets).toBe(1);
  });

  it('hangs until the client gives up, and forgets the request then', async () => {
    const s = await start({ faults: { scripts: { h: [{ kind: 'hang' }] } } });
    const controller = new AbortController();
    const hanging = chat(s, 'h', { signal: controller.signal }).catch(() => 'aborted');
    await eventually(() => s.stats.inFlight === 1);
    await sleep(50);
    expect(s.requests[0]?.status).toBeNull();
    controller.abort();
    expect(await hanging).toBe('aborted');
    await eventually(() => s.stats.inFlight === 0);
    expect(s.requests[0]).toMatchObject({ outcome: 'hang', status: null, clientAborted: true });
    expect((await chat(s, 'h')).status).toBe(200); // the script is played out
  });

  it('clears the answer timer of a request whose client aborted', async () => {
    const s = await start({ latencyMs: 61_234 });
    // Watch the timers armed with the simulator's latency, and whether each gets cleared.
    const armed = new Set<unknown>();
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout');
    try {
      const controller = new AbortController();
      const request = chat(s, 'slow', { signal: controller.signal }).catch(() => 'aborted');
      await eventually(() => s.stats.inFlight === 1);
      setSpy.mock.calls.forEach((call, i) => {
        if (call[1] === 61_234) armed.add(setSpy.mock.results[i]?.value);
      });
      expect(armed.size).toBe(1);
      controller.abort();
      expect(await request).toBe('aborted');
      await eventually(() => s.stats.inFlight === 0);
      const cleared = new Set<unknown>(clearSpy.mock.calls.map((call) => call[0]));
      expect([...armed].every((timer) => cleared.has(timer))).toBe(true);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
    expect(s.stats.clientAborts).toBe(1);
    expect(s.requests[0]).toMatchObject({ clientAborted: true, status: null, answeredAt: null });
  });

  it('closes promptly while requests hang or wait', async () => {
    const s = await start({ latencyMs: 60_000, faults: { scripts: { h: [{ kind: 'hang' }] } } });
    const hanging = chat(s, 'h').catch(() => 'closed');
    const waiting = chat(s, 'w').catch(() => 'closed');
    await eventually(() => s.stats.inFlight === 2);
    const started = performance.now();
    await s.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await hanging).toBe('closed');
    expect(await waiting).toBe('closed');
    expect(s.requests.every((r) => !r.clientAborted)).toBe(true);
  });
});
