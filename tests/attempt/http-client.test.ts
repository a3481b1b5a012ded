// The direct HTTP path (src/attempt/http-client.ts) against scripted answers: the simulator's
// scripts (200, 4xx/5xx bodies, 429 with each hint header, resets, hangs) and a raw node:http
// server for what the simulator never does (HTML error pages, cut-off bodies, 200s that are not
// completions, echoed keys, oversized answers). The expected reports are what the openai-client
// path (openai-call.ts + http-fetch.ts, removed with this change) reported for the same answers,
// checked side by side before it went; where the new path deliberately differs the case says so.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type CallResult, type ClientSettings, type HttpClient } from '../../src/attempt/http-client.js';
import { cancellationOf } from '../helpers/cancellation.js';
import type { RateLimitHintHeader } from '../../src/sim/index.js';
import { useSimulator } from '../helpers/simulator.js';

const KEY = 'sk-test-0123456789abcdef';

function settingsFor(baseURL: string, extra: Partial<ClientSettings> = {}): ClientSettings {
  return {
    baseURL,
    apiKey: KEY,
    secrets: [KEY],
    attemptTimeoutMs: 60_000,
    headers: {},
    maxSockets: 8,
    maxResponseBytes: 64 * 1024,
    userAgent: 'batch-llm/test',
    ...extra,
  };
}

/** What an item's result takes from one attempt, in a form two paths can be compared by. */
interface Report {
  outcome: 'ok' | 'failed' | 'unsent';
  category?: string;
  code?: string | null;
  status?: number | null;
  hintMs?: number | null;
  requestId?: string | null;
  message?: string;
  body?: unknown;
}

function report(result: CallResult): Report {
  if (result.ok === 'unsent') return { outcome: 'unsent' };
  if (result.ok) {
    const body = result.body as { object?: unknown };
    return { outcome: 'ok', status: result.status, requestId: result.requestId, body: body.object };
  }
  const { category, code, status, hintMs, requestId, message, body } = result.failure;
  return { outcome: 'failed', category, code, status, hintMs, requestId, message, body };
}

function ask(client: HttpClient, key: string, options: { timeoutMs?: number; signal?: AbortSignal; path?: string } = {}): Promise<CallResult> {
  const body = { model: 'm', messages: [{ role: 'user', content: key }] };
  return client.post(options.path ?? '/chat/completions', body, options.timeoutMs ?? 10_000, cancellationOf(options.signal ?? new AbortController().signal), () => true);
}

describe('the HTTP path against the simulator’s scripted answers', () => {
  const start = useSimulator();
  let client: HttpClient | undefined;
  afterEach(() => client?.close());

  async function run(key: string, steps: unknown[], options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Report> {
    const sim = await start({ faults: { scripts: { [key]: steps as never } } });
    client = createHttpClient(settingsFor(sim.url));
    return report(await ask(client, key, options));
  }

  it('reports a 200 completion with its request id', async () => {
    expect(await run('ok', [200])).toEqual({ outcome: 'ok', status: 200, requestId: expect.stringMatching(/^req_sim_/), body: 'chat.completion' });
  });

  it.each([
    [400, 'bad_request', null, '400 Invalid request (batch-llm simulator).'],
    [401, 'auth', 'invalid_api_key', '401 Incorrect API key provided. (batch-llm simulator)'],
    [402, 'quota', 'insufficient_quota', '402 You exceeded your current quota, please check your plan and billing details. (batch-llm simulator)'],
    [404, 'bad_request', 'model_not_found', undefined],
    [500, 'transient', 'server_error', undefined],
    [503, 'transient', undefined, undefined],
  ])('classifies a %i from its error body', async (status, category, code, message) => {
    const got = await run(`s${status}`, [status]);
    expect(got).toMatchObject({ outcome: 'failed', category, status, requestId: expect.stringMatching(/^req_sim_/), hintMs: null });
    if (code !== undefined) expect(got.code).toBe(code);
    if (message !== undefined) expect(got.message).toBe(message);
    expect(got.body).toMatchObject({ message: expect.any(String), type: expect.any(String) });
  });

  it('tells an empty quota (429 insufficient_quota) from a rate limit', async () => {
    expect(await run('quota', [{ status: 429, code: 'insufficient_quota' }])).toMatchObject({ category: 'quota', code: 'insufficient_quota', status: 429, hintMs: null });
  });

  it.each<[RateLimitHintHeader, number | null]>([
    ['retry-after-ms', 2000],
    ['retry-after', 2000],
    ['retry-after-date', 3000],
    ['x-ratelimit-reset-requests', 1000],
    ['x-ratelimit-reset-tokens', 1000],
    ['none', null],
  ])('reads the pause hint of a 429 from %s', async (header, expected) => {
    const ms = expected ?? 1000;
    const got = await run(`hint-${header}`, [{ status: 429, hint: { header, ms } }]);
    // An HTTP date has whole seconds: the pause is within a second of what was asked.
    const hint = header === 'retry-after-date' ? expect.toSatisfy((h: number) => h > ms - 1000 && h <= ms + 1000) : expected;
    expect(got).toMatchObject({ outcome: 'failed', category: 'rate_limit', code: 'rate_limit_exceeded', status: 429, hintMs: hint, requestId: expect.stringMatching(/^req_sim_/) });
  });

  it('names a reset connection as a transient connection error', async () => {
    const got = await run('reset', [{ kind: 'reset' }]);
    expect(got).toMatchObject({ outcome: 'failed', category: 'transient', status: null, code: null });
    // The old path said only "Connection error." (issue 14, point 17).
    expect(got.message).toMatch(/^Connection error: .*(ECONNRESET|socket hang up)/);
  });

  it('times an attempt out at its timeout', async () => {
    const got = await run('hang', [{ kind: 'hang' }], { timeoutMs: 150 });
    expect(got).toMatchObject({ outcome: 'failed', category: 'timeout', status: null, message: 'Request timed out after 150 ms.' });
  });

  it('fails an attempt whose run was cancelled before it started as aborted, without throwing', async () => {
    const abort = new AbortController();
    abort.abort();
    expect(await run('cancelled-first', [200], { signal: abort.signal })).toMatchObject({ outcome: 'failed', category: 'aborted' });
  });

  it('aborts an attempt on the wire when its signal fires', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    expect(await run('hang-abort', [{ kind: 'hang' }], { signal: abort.signal })).toMatchObject({ outcome: 'failed', category: 'aborted', message: 'Request was aborted.' });
  });
});

/** A raw server answering each request with what the test scripted for its path. */
type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void;

describe('the HTTP path against answers the simulator never gives', () => {
  let server: http.Server;
  let url = '';
  const answers = new Map<string, Answer>();
  const seen: http.IncomingMessage[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req);
      req.resume();
      req.on('end', () => {
        const answer = answers.get(req.url ?? '');
        if (answer) answer(req, res);
        else res.writeHead(599).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  let client: HttpClient | undefined;
  afterEach(() => client?.close());

  async function run(name: string, answer: Answer, extra: Partial<ClientSettings> = {}): Promise<Report> {
    answers.set(`/v1/${name}/chat/completions`, answer);
    client = createHttpClient(settingsFor(url, extra));
    return report(await ask(client, name, { path: `/${name}/chat/completions` }));
  }
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const completion = { object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] };

  it('sends the key, batch-llm’s User-Agent, the organization and project, and custom headers', async () => {
    process.env['OPENAI_ORG_ID'] = 'org-1';
    process.env['OPENAI_PROJECT_ID'] = 'proj-1';
    try {
      seen.length = 0;
      const got = await run('headers', json(200, completion, { 'x-request-id': 'req_h' }), { headers: { 'X-Custom': 'yes', 'User-Agent': 'mine/2' } });
      expect(got).toEqual({ outcome: 'ok', status: 200, requestId: 'req_h', body: 'chat.completion' });
      expect(seen[0]?.headers).toMatchObject({ authorization: `Bearer ${KEY}`, 'user-agent': 'mine/2', 'x-custom': 'yes', 'openai-organization': 'org-1', 'openai-project': 'proj-1', 'content-type': 'application/json' });
      // The client writes its headers as a list, so it names the host itself (port included), and the body's length.
      expect(seen[0]?.headers).toMatchObject({ host: new URL(url).host, 'content-length': expect.stringMatching(/^[1-9]\d*$/), connection: 'keep-alive' });
      seen.length = 0;
      await run('headers', json(200, completion));
      expect(seen[0]?.headers['user-agent']).toBe('batch-llm/test');
    } finally {
      delete process.env['OPENAI_ORG_ID'];
      delete process.env['OPENAI_PROJECT_ID'];
    }
  });

  it('sends the base URL\'s query with every request (Azure\'s api-version, a gateway\'s key)', async () => {
    seen.length = 0;
    answers.set('/v1/query/chat/completions?api-version=2024-10-21&key=gw-key-0123456789', json(200, completion));
    client = createHttpClient(settingsFor(`${url}/?api-version=2024-10-21&key=gw-key-0123456789`));
    const got = report(await ask(client, 'query', { path: '/query/chat/completions' }));
    expect(got).toMatchObject({ outcome: 'ok', status: 200 });
    expect(seen.map((req) => req.url)).toEqual(['/v1/query/chat/completions?api-version=2024-10-21&key=gw-key-0123456789']);
  });

  it('keeps an HTML error page short in the message and the category of its status', async () => {
    const page = `<html><body>${'Bad gateway. '.repeat(200)}</body></html>`;
    const got = await run('html', (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end(page));
    expect(got).toMatchObject({ outcome: 'failed', category: 'transient', status: 502, code: null });
    expect(got.message?.startsWith('502 <html><body>Bad gateway.')).toBe(true);
    expect(got.message?.length).toBeLessThan(400);
  });

  it('fails a cut-off answer as a transient connection error', async () => {
    const got = await run('cut', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"object":"chat.completion","choi');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    expect(got).toMatchObject({ outcome: 'failed', category: 'transient', status: null });
    expect(got.message).toMatch(/^Connection error: .*cut off/);
  });

  it('fails a cut-off error body as a connection error, not as its status', async () => {
    const got = await run('cut-error', (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"error":{"mess');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    expect(got).toMatchObject({ outcome: 'failed', category: 'transient' });
  });

  // Issue 14 point 6: the old path wrote each of these as a success.
  it.each<[string, Answer, string]>([
    ['error-200', json(200, { error: { message: 'upstream overloaded', code: 'overloaded' } }), 'overloaded'],
    ['empty-200', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(), 'invalid_response'],
    ['text-200', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('Service temporarily unavailable'), 'invalid_response'],
    ['no-choices-200', json(200, { object: 'chat.completion', choices: [] }), 'invalid_response'],
  ])('fails a 2xx that is not a completion (%s) as transient', async (name, answer, code) => {
    expect(await run(name, answer)).toMatchObject({ outcome: 'failed', category: 'transient', code, status: 200 });
  });

  it('removes a key the server echoes from the message and the body', async () => {
    const got = await run('echo', json(401, { error: { message: `Incorrect API key provided: ${KEY}`, code: 'invalid_api_key', echoed: KEY } }));
    expect(got).toMatchObject({ category: 'auth', status: 401, message: '401 Incorrect API key provided: [redacted]' });
    expect(JSON.stringify(got)).not.toContain(KEY);
  });

  it('fails an answer over maxResponseBytes without reading it all', async () => {
    const big = JSON.stringify({ ...completion, padding: 'x'.repeat(200_000) });
    expect(await run('big', json(200, big))).toMatchObject({ outcome: 'failed', category: 'bad_request', code: 'response_too_large' });
    const chunked = await run('big-chunked', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 10; i++) res.write('x'.repeat(10_000));
      res.end();
    });
    expect(chunked).toMatchObject({ category: 'bad_request', code: 'response_too_large' });
  });

  it('keeps only the head of a huge error body', async () => {
    const got = await run('big-error', (_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('E'.repeat(100_000)));
    expect(got).toMatchObject({ outcome: 'failed', category: 'transient', status: 500 });
    expect(JSON.stringify(got).length).toBeLessThan(2_000);
  });

  it('names the cause of a refused connection', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    client = createHttpClient(settingsFor(`http://127.0.0.1:${port}/v1`));
    const got = report(await ask(client, 'refused'));
    expect(got).toMatchObject({ outcome: 'failed', category: 'transient', message: `Connection error: connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it('sends nothing when the gate’s last look says no', async () => {
    answers.set('/v1/late/chat/completions', json(200, completion));
    client = createHttpClient(settingsFor(url));
    seen.length = 0;
    const result = await client.post('/late/chat/completions', {}, 5_000, cancellationOf(new AbortController().signal), () => false);
    expect(result).toEqual({ ok: 'unsent' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toHaveLength(0);
  });
});
