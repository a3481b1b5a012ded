import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { RateLimitHint } from '../../src/sim/index.js';
import { useSimulator } from '../helpers/simulator.js';
import { chat, eventually, field, sleep } from './http.js';

const start = useSimulator();

describe('429 pause hints', () => {
  const cases: [RateLimitHint, string, (value: string | null, sentAt: number) => void][] = [
    [{ header: 'retry-after-ms', ms: 1500 }, 'retry-after-ms', (v) => expect(v).toBe('1500')],
    [{ header: 'retry-after', ms: 1500 }, 'retry-after', (v) => expect(v).toBe('2')],
    [
      { header: 'retry-after-date', ms: 3000 },
      'retry-after',
      (v, sentAt) => {
        const at = Date.parse(v ?? '');
        expect(at % 1000).toBe(0);
        expect(at).toBeGreaterThanOrEqual(sentAt + 3000);
        expect(at).toBeLessThan(sentAt + 3000 + 1000 + 200);
      },
    ],
    [{ header: 'x-ratelimit-reset-requests', ms: 360_000 }, 'x-ratelimit-reset-requests', (v) => expect(v).toBe('6m0s')],
    [{ header: 'x-ratelimit-reset-tokens', ms: 250 }, 'x-ratelimit-reset-tokens', (v) => expect(v).toBe('250ms')],
  ];
  for (const [hint, header, check] of cases) {
    it(`sends ${hint.header} as ${header}`, async () => {
      const s = await start({ faults: { scripts: { k: [{ status: 429, hint }] } } });
      const sentAt = Date.now();
      const reply = await chat(s, 'k');
      expect(reply.status).toBe(429);
      check(reply.headers.get(header), sentAt);
    });
  }

  it('sends no hint at all for "none"', async () => {
    const s = await start({ faults: { scripts: { k: [{ status: 429, hint: { header: 'none', ms: 0 } }] } } });
    const reply = await chat(s, 'k');
    expect(reply.status).toBe(429);
    const hintHeaders = [...reply.headers.keys()].filter((h) => h.startsWith('retry-after') || h.startsWith('x-ratelimit'));
    expect(hintHeaders).toEqual([]);
  });

  it('sends an OpenAI-shaped rate-limit body that the openai client reads as RateLimitError', async () => {
    const s = await start({ faults: { scripts: { k: [429] } } });
    const client = new OpenAI({ baseURL: s.url, apiKey: 'test', maxRetries: 0 });
    const error: unknown = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'k' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.type).toBe('requests');
    expect(rateLimit.headers.get('retry-after-ms')).toBe('1000'); // the default hint
  });
});

describe('hold storms', () => {
  it('holds requests until n are in flight, answers all n 429 at once, then serves 200', async () => {
    const s = await start({ faults: { storms: [{ holdUntilInFlight: 4, hint: { header: 'retry-after-ms', ms: 700 } }] } });
    const first = [chat(s, 'a'), chat(s, 'b'), chat(s, 'c')];
    await eventually(() => s.requests.length === 3);
    await sleep(50); // three held; none may be answered before the fourth arrives
    expect(s.requests.map((r) => r.status)).toEqual([null, null, null]);
    const replies = await Promise.all([...first, chat(s, 'd')]);
    expect(replies.map((r) => r.status)).toEqual([429, 429, 429, 429]);
    expect(replies.map((r) => r.headers.get('retry-after-ms'))).toEqual(['700', '700', '700', '700']);
    const lastArrival = Math.max(...s.requests.map((r) => r.arrivedAt));
    for (const record of s.requests) {
      expect(record).toMatchObject({ outcome: 'rate_limit', cause: 'storm', status: 429 });
      expect(record.answeredAt).toBeGreaterThanOrEqual(lastArrival);
    }
    expect(s.requests[3]?.inFlightAtArrival).toBe(4);
    expect((await chat(s, 'e')).status).toBe(200);
  });

  it('does not count held requests whose client gave up', async () => {
    const s = await start({ faults: { storms: [{ holdUntilInFlight: 2 }] } });
    const controller = new AbortController();
    const gone = chat(s, 'gone', { signal: controller.signal }).catch(() => 'aborted');
    await eventually(() => s.stats.inFlight === 1);
    controller.abort();
    expect(await gone).toBe('aborted');
    await eventually(() => s.stats.inFlight === 0);
    const replies = await Promise.all([chat(s, 'x'), chat(s, 'y')]);
    expect(replies.map((r) => r.status)).toEqual([429, 429]);
    expect(s.requests[0]).toMatchObject({ clientAborted: true, status: null });
  });

  it('plays storms in order: the next starts with the first request after the previous ended', async () => {
    const s = await start({ faults: { storms: [{ holdUntilInFlight: 2 }, { holdUntilInFlight: 1 }] } });
    expect((await Promise.all([chat(s, 'a'), chat(s, 'b')])).map((r) => r.status)).toEqual([429, 429]);
    expect((await chat(s, 'c')).status).toBe(429);
    expect((await chat(s, 'd')).status).toBe(200);
  });
});

describe('lulls', () => {
  it('let passRequests requests through between storms, then the next storm starts', async () => {
    const s = await start({ faults: { storms: [{ holdUntilInFlight: 1 }, { passRequests: 2 }, { holdUntilInFlight: 1 }] } });
    const statuses = [];
    for (const key of ['a', 'b', 'c', 'd', 'e']) statuses.push((await chat(s, key)).status);
    expect(statuses).toEqual([429, 200, 200, 429, 200]);
    expect(s.requests.map((r) => r.cause)).toEqual(['storm', 'normal', 'normal', 'storm', 'normal']);
  });
});

describe('window storms', () => {
  it('answers 429 within windowMs of the storm\'s first request, then serves 200', async () => {
    const s = await start({ faults: { storms: [{ windowMs: 300 }] } });
    expect((await chat(s, 'a')).status).toBe(429);
    expect((await chat(s, 'b')).status).toBe(429);
    await sleep(320);
    expect((await chat(s, 'c')).status).toBe(200);
    const [a, b, c] = s.requests;
    expect((b?.arrivedAt ?? Infinity) - (a?.arrivedAt ?? 0)).toBeLessThan(300);
    expect((c?.arrivedAt ?? 0) - (a?.arrivedAt ?? 0)).toBeGreaterThanOrEqual(300);
    expect(s.requests.map((r) => r.cause)).toEqual(['storm', 'storm', 'normal']);
  });
});

describe('scripts', () => {
  it('plays a key\'s steps in order, then succeeds, and leaves other keys alone', async () => {
    const s = await start({
      faults: {
        scripts: {
          k: [429, 500, { status: 402, code: 'insufficient_quota' }, { code: 'insufficient_quota' }, 503, 401],
        },
      },
    });
    expect((await chat(s, 'other')).status).toBe(200);
    const replies = [];
    for (let i = 0; i < 8; i++) replies.push(await chat(s, 'k'));
    expect(replies.map((r) => r.status)).toEqual([429, 500, 402, 429, 503, 401, 200, 200]);
    expect(replies.map((r) => field(r.json, 'error', 'code'))).toEqual([
      'rate_limit_exceeded',
      'server_error',
      'insufficient_quota',
      'insufficient_quota',
      null,
      'invalid_api_key',
      undefined,
      undefined,
    ]);
    // A quota 429 is not a rate limit: no pause hint, and recorded as an error.
    expect(replies[3]?.headers.get('retry-after-ms')).toBeNull();
    expect(s.requests.slice(1).map((r) => r.outcome)).toEqual([
      'rate_limit', 'error', 'error', 'error', 'error', 'error', 'ok', 'ok',
    ]);
  });

  it('uses a step\'s delay instead of the latency', async () => {
    const s = await start({ latencyMs: 0, faults: { scripts: { k: [{ status: 500, delayMs: 80 }] } } });
    await chat(s, 'k');
    const record = s.requests[0];
    expect((record?.answeredAt ?? 0) - (record?.arrivedAt ?? 0)).toBeGreaterThanOrEqual(80);
  });

  it('resets the connection on a reset step', async () => {
    const s = await start({ faults: { scripts: { k: [{ kind: 'reset' }] } } });
    await expect(chat(s, 'k')).rejects.toThrow(TypeError);
    expect((await chat(s, 'k')).status).toBe(200);
    expect(s.requests.map((r) => r.outcome)).toEqual(['reset', 'ok']);
  });

  it('lets scripted keys bypass storms', async () => {
    const s = await start({ faults: { storms: [{ windowMs: 10_000 }], scripts: { k: [500] } } });
    expect((await chat(s, 'k')).status).toBe(500);
    expect((await chat(s, 'k')).status).toBe(200);
    expect((await chat(s, 'free')).status).toBe(429); // the storm started only with this request
  });
});
