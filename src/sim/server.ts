/**
 * The simulator's HTTP server: OpenAI-compatible `POST /v1/chat/completions`, `/v1/completions`,
 * `/v1/embeddings` and `/v1/responses` on `node:http`, one set of rules (scripts, storms, limits,
 * fault rates) for all four.
 * It reads each request, asks the pure rules (scripts, storms, limits, fault rates) what to do, and
 * carries that out. Hot-path rules: no logging, O(1) work per request besides JSON, one `res.end`
 * with the whole body, and every timer cleared when its client goes away.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SimBatchApi, type SimBatchStats } from './batch-api.js';
import { resolveSimBatchOptions } from './batch-options.js';
import type { ChatRequest } from './chat-request.js';
import { requestId } from './completion.js';
import { buildAnswer } from './endpoint-answers.js';
import { parseModelRequest, simEndpointOf } from './endpoint-requests.js';
import { errorBody, isRateLimit, type ErrorBody } from './error-body.js';
import { rollFault, ScriptBook, StormSchedule } from './faults.js';
import { resolveSimOptions, type RateLimitHint, type ScriptAction, type SimOptions } from './options.js';
import { mulberry32 } from './prng.js';
import { hintHeaders, limitHeaders } from './rate-limit-headers.js';
import { RateLimits } from './rate-limits.js';
import type { SimCause, SimOutcome, SimRequestRecord, SimStats } from './request-record.js';
import type { Endpoint } from '../model/endpoint.js';

/** A running simulator. */
export interface Simulator {
  /** Base URL for an OpenAI client, e.g. `http://127.0.0.1:12345/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every request to the four model endpoints, in arrival order (empty when `recordRequests` is off). */
  readonly requests: readonly SimRequestRecord[];
  /** Running totals. A live object: read it, do not keep it for comparison. */
  readonly stats: Readonly<SimStats>;
  /** What the Batch API was asked (files, batches, lines answered / failed / expired). A live object. */
  readonly batchStats: Readonly<SimBatchStats>;
  /**
   * A crash or a restart as clients see it: stops listening (new connections are refused) and
   * destroys every open connection, requests in progress included. `comeBack` listens again.
   */
  goDown(): Promise<void>;
  /** Listens again on the same port after `goDown` (records and counters carry on). */
  comeBack(): Promise<void>;
  /** Destroys every open socket, hanging requests included, and resolves once the server is closed. */
  close(): Promise<void>;
}

/** Bodies beyond this are refused with 413 rather than buffered. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Longer than any client's idle keep-alive, so the server is never the side that drops a reused socket. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** A request that has been read and not yet answered (or reset, or given up by its client). */
interface Pending {
  readonly record: SimRequestRecord;
  readonly res: ServerResponse;
  /** Latency drawn for this request, in ms: used when a hold storm releases it. */
  readonly latencyMs: number;
  timer: NodeJS.Timeout | undefined;
  /** Whether it holds one of the `slots` (given back when it is finished). */
  slotted: boolean;
  /** Set once the request has been answered, reset or abandoned; every exit path checks it first. */
  done: boolean;
}

/** The four uniform draws each valid request takes, always all four, so the stream stays aligned. */
interface Draws {
  readonly jitter: number;
  readonly fault: number;
  readonly invalidJson: number;
  readonly violation: number;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  // Headers and body leave in one write: an explicit content-length keeps Node from chunking.
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Starts a simulator on `options.host`:`options.port` (default 127.0.0.1, a free port). */
export async function startSimulator(options: SimOptions = {}): Promise<Simulator> {
  const config = resolveSimOptions(options);
  const random = mulberry32(config.seed);
  const scripts = new ScriptBook(config.scripts);
  const storms = new StormSchedule<Pending>(config.storms);
  const limits = new RateLimits(config.rpm, config.tpm, config.rateWindowMs);
  const expectedAuth = config.apiKey === undefined ? undefined : `Bearer ${config.apiKey}`;
  const batchApi = new SimBatchApi(config, resolveSimBatchOptions(options.batch));

  const records: SimRequestRecord[] = [];
  const stats: SimStats = {
    requests: 0,
    ok: 0,
    rateLimited: 0,
    errors: 0,
    resets: 0,
    hangs: 0,
    clientAborts: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
  /** Requests read but not yet finished; close() clears their timers. */
  const pending = new Set<Pending>();
  let nextSeq = 0;
  let closing = false;
  /** With `slots`: answers being generated, and the requests waiting for a slot, first come first served. */
  let busySlots = 0;
  const slotQueue: Array<{ p: Pending; start: () => void }> = [];

  /** Starts `start` once `p` has a slot (at once without `slots`). */
  function inSlot(p: Pending, start: () => void): void {
    if (config.slots === undefined) return start();
    slotQueue.push({ p, start });
    nextInSlot();
  }

  function nextInSlot(): void {
    while (config.slots !== undefined && busySlots < config.slots) {
      const next = slotQueue.shift();
      if (next === undefined) return;
      if (next.p.done) continue; // its client left while it waited
      busySlots++;
      next.p.slotted = true;
      next.start();
    }
  }

  /** Marks `p` finished exactly once; false if it already was. */
  function finish(p: Pending): boolean {
    if (p.done) return false;
    p.done = true;
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    pending.delete(p);
    stats.inFlight--;
    if (p.slotted) {
      p.slotted = false;
      busySlots--;
      nextInSlot();
    }
    return true;
  }

  function later(p: Pending, delayMs: number, action: () => void): void {
    p.record.delayMs = delayMs;
    if (delayMs <= 0) {
      action();
      return;
    }
    // Timers count from the event loop's cached clock, which lags on a busy loop, so they can fire a
    // few ms early. Re-arm for the rest: an answer never comes before its planned delay.
    const due = performance.now() + delayMs;
    const fire = (): void => {
      const left = due - performance.now();
      if (left > 0) p.timer = setTimeout(fire, left);
      else action();
    };
    p.timer = setTimeout(fire, delayMs);
  }

  function answer(p: Pending, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (!finish(p)) return;
    const record = p.record;
    record.status = status;
    record.answeredAt = epochNow();
    if (record.outcome === 'ok') stats.ok++;
    else if (record.outcome === 'rate_limit') stats.rateLimited++;
    else stats.errors++;
    const limitInfo = limits.enabled
      ? limitHeaders(limits.requestsSnapshot(performance.now()), limits.tokensSnapshot(performance.now()))
      : undefined;
    // The pause hint comes last: a storm's `x-ratelimit-reset-*` hint overrides the window's own.
    sendJson(p.res, status, body, { 'x-request-id': requestId(record.seq), ...limitInfo, ...headers });
  }

  /** Answers an error after `delayMs`; a pause hint is written at sending time, so a date in it is exact. */
  function answerError(
    p: Pending,
    outcome: SimOutcome,
    cause: SimCause,
    status: number,
    body: ErrorBody,
    delayMs: number,
    hint: RateLimitHint | undefined,
  ): void {
    p.record.outcome = outcome;
    p.record.cause = cause;
    later(p, delayMs, () => answer(p, status, body, hint === undefined ? {} : hintHeaders(hint, epochNow())));
  }

  function answerRateLimit(p: Pending, cause: SimCause, hint: RateLimitHint, delayMs: number): void {
    answerError(p, 'rate_limit', cause, 429, errorBody(429), delayMs, hint);
  }

  function reset(p: Pending): void {
    if (!finish(p)) return;
    stats.resets++;
    const socket = p.res.socket;
    // An RST, not a polite FIN: what a crashed proxy or a dropped connection looks like to a client.
    if (socket === null) p.res.destroy();
    else socket.resetAndDestroy();
  }

  function hang(p: Pending): void {
    p.record.outcome = 'hang';
    stats.hangs++;
    // Nothing to do: it stays pending until the client gives up or the simulator closes.
  }

  function answerSuccess(p: Pending, request: ChatRequest, delayMs: number, invalidJson: boolean, violate: boolean, malformed = false): void {
    p.record.outcome = 'ok';
    inSlot(p, () => later(p, delayMs, () => {
      const reply = buildAnswer({
        request,
        seq: p.record.seq,
        model: config.model,
        seed: config.seed,
        completionTokens: config.completionTokens,
        embeddingDimensions: config.embeddingDimensions,
        created: Math.floor(Date.now() / 1000),
        invalidJson,
        violateSchema: violate,
        malformed,
      });
      p.record.content = reply.content;
      answer(p, 200, reply.body);
    }));
  }

  function playScript(p: Pending, request: ChatRequest, action: ScriptAction, latencyMs: number): void {
    p.record.cause = 'script';
    switch (action.kind) {
      case 'success':
        answerSuccess(
          p,
          request,
          action.delayMs ?? latencyMs,
          action.output === 'invalid_json',
          action.output === 'schema_violation',
          action.output === 'malformed',
        );
        return;
      case 'error': {
        const rateLimit = isRateLimit(action.status, action.code ?? null);
        // A rate-limit 429 carries the default hint unless the step names one; other errors only their own.
        const hint = action.hint ?? (rateLimit ? config.rateLimitHint : undefined);
        answerError(
          p,
          rateLimit ? 'rate_limit' : 'error',
          'script',
          action.status,
          errorBody(action.status, { code: action.code }),
          action.delayMs ?? latencyMs,
          hint,
        );
        return;
      }
      case 'reset':
        p.record.outcome = 'reset';
        later(p, action.delayMs ?? latencyMs, () => reset(p));
        return;
      case 'hang':
        hang(p);
        return;
    }
  }

  /** Everything below runs synchronously at arrival, so the order of decisions is the arrival order. */
  function decide(p: Pending, request: ChatRequest, draws: Draws, now: number): void {
    const script = scripts.next(request.key);
    if (script !== undefined) {
      playScript(p, request, script, p.latencyMs);
      return;
    }

    const storm = storms.onArrival(now, p);
    switch (storm.action) {
      case 'hold':
        p.record.outcome = 'rate_limit';
        p.record.cause = 'storm';
        return; // answered when the storm fills, or dropped if its client leaves first
      case 'release':
        for (const held of storm.held) answerRateLimit(held, 'storm', storm.hint, held.latencyMs);
        return;
      case 'reject':
        if (storm.status === 429) answerRateLimit(p, 'storm', storm.hint ?? config.rateLimitHint, p.latencyMs);
        else answerError(p, 'error', 'storm', storm.status, errorBody(storm.status), p.latencyMs, storm.hint);
        return;
      case 'pass':
        break;
    }

    const cost = request.promptTokens + (request.maxTokens ?? config.completionTokens);
    const admission = limits.admit(now, cost);
    if (!admission.admitted) {
      const perMinute = admission.limit === 'requests' ? config.rpm : config.tpm;
      const message = admission.tooLarge
        ? `Request too large for tokens per min (TPM) (batch-llm simulator): Limit ${config.tpm}, Requested ${cost}.`
        : `Rate limit reached for ${admission.limit} per min (batch-llm simulator): Limit ${perMinute}. ` +
          `Please try again in ${admission.retryAfterMs}ms.`;
      answerError(
        p,
        'rate_limit',
        admission.limit === 'requests' ? 'rpm' : 'tpm',
        429,
        errorBody(429, { message, type: admission.limit }),
        p.latencyMs,
        { header: 'retry-after-ms', ms: admission.retryAfterMs },
      );
      return;
    }

    switch (rollFault(config.rates, draws.fault)) {
      case 'error500':
        answerError(p, 'error', 'random', 500, errorBody(500), p.latencyMs, undefined);
        return;
      case 'error503':
        answerError(p, 'error', 'random', 503, errorBody(503), p.latencyMs, undefined);
        return;
      case 'reset':
        p.record.outcome = 'reset';
        p.record.cause = 'random';
        later(p, p.latencyMs, () => reset(p));
        return;
      case 'hang':
        p.record.cause = 'random';
        hang(p);
        return;
      case undefined:
        break;
    }

    const jsonMode = request.responseFormat.type !== 'text';
    answerSuccess(
      p,
      request,
      p.latencyMs,
      jsonMode && draws.invalidJson < config.invalidJsonRate,
      jsonMode && draws.violation < config.schemaViolationRate,
    );
  }

  function onModelRequest(res: ServerResponse, endpoint: Endpoint, authorization: string | undefined, body: string | undefined): void {
    const now = performance.now();
    stats.requests++;
    stats.inFlight++;
    if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight;
    const record: SimRequestRecord = {
      seq: nextSeq++,
      arrivedAt: performance.timeOrigin + now,
      answeredAt: null,
      status: null,
      outcome: 'error',
      delayMs: null,
      content: null,
      inFlightAtArrival: stats.inFlight,
      endpoint,
      key: '',
      cause: 'invalid_request',
      clientAborted: false,
    };
    if (config.recordRequests) records.push(record);

    const authorized = expectedAuth === undefined || authorization === expectedAuth;
    const parsed = body !== undefined && authorized ? parseModelRequest(endpoint, body) : undefined;
    const request = parsed?.ok === true ? parsed.request : undefined;
    const draws: Draws | undefined =
      request === undefined ? undefined : { jitter: random(), fault: random(), invalidJson: random(), violation: random() };
    const latencyMs = config.latencyMs + config.latencyJitterMs * (draws?.jitter ?? 0);
    const p: Pending = { record, res, latencyMs, timer: undefined, slotted: false, done: false };
    pending.add(p);
    res.on('close', () => {
      // Fires after a normal answer too; only an unfinished request means the client went away.
      if (!finish(p)) return;
      storms.abandon(p);
      if (!closing) {
        record.clientAborted = true;
        stats.clientAborts++;
      }
    });

    if (body === undefined) {
      answer(p, 413, errorBody(413, { message: `Request body larger than ${MAX_BODY_BYTES} bytes.` }));
    } else if (!authorized) {
      record.cause = 'auth';
      answer(p, 401, errorBody(401));
    } else if (request === undefined || draws === undefined) {
      const failure = parsed?.ok === false ? parsed : { message: 'Invalid request.', param: null };
      answer(p, 400, errorBody(400, { message: failure.message, param: failure.param }));
    } else {
      record.key = request.key;
      record.cause = 'normal';
      decide(p, request, draws, now);
    }
  }

  function readModelRequest(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const first = chunks[0];
      const bytes = chunks.length === 1 && first !== undefined ? first : Buffer.concat(chunks);
      onModelRequest(res, endpoint, req.headers.authorization, size > MAX_BODY_BYTES ? undefined : bytes.toString('utf8'));
    });
  }

  function serveBatchApi(req: IncomingMessage, res: ServerResponse, path: string): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (expectedAuth !== undefined && req.headers.authorization !== expectedAuth) {
        sendJson(res, 401, errorBody(401));
        return;
      }
      batchApi.serve(req.method ?? 'GET', path, req.headers['content-type'], Buffer.concat(chunks), res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, errorBody(500, { message: `simulator: ${error instanceof Error ? error.message : String(error)}` }));
      });
    });
  }

  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    // A client that aborts mid-body makes `req` emit an error; it is not ours to report.
    req.on('error', () => {});
    const path = pathOf(req.url);
    const endpoint = req.method === 'POST' ? simEndpointOf(path) : undefined;
    if (endpoint !== undefined) {
      readModelRequest(req, res, endpoint);
    } else if (batchApi.handles(req.method ?? 'GET', path)) {
      serveBatchApi(req, res, path);
    } else if (path === '/v1/models' && req.method === 'GET') {
      if (expectedAuth !== undefined && req.headers.authorization !== expectedAuth) {
        sendJson(res, 401, errorBody(401));
      } else {
        const created = Math.floor(Date.now() / 1000);
        sendJson(res, 200, {
          object: 'list',
          data: [{ id: config.model, object: 'model', created, owned_by: 'batch-llm-sim' }],
        });
      }
    } else {
      sendJson(res, 404, errorBody(404, { message: `Invalid URL (${req.method ?? 'GET'} ${path})`, code: null }));
    }
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxRequestsPerSocket = 0; // unlimited: a benchmark client reuses its sockets for the whole run

  const listen = (onPort: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  /** Ends every request in progress and every connection; resolves once the server is closed. */
  const shut = (): Promise<void> =>
    new Promise<void>((resolve) => {
      slotQueue.length = 0;
      for (const p of pending) finish(p);
      storms.clear();
      server.close(() => resolve());
      // Idle keep-alive sockets and hanging requests alike: nothing may keep the close waiting.
      server.closeAllConnections();
    });
  await listen(config.port);
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/v1`,
    port,
    requests: records,
    stats,
    batchStats: batchApi.stats,
    async goDown(): Promise<void> {
      // The requests it cuts off are the server's doing, not clients that went away.
      closing = true;
      await shut();
      closing = false;
    },
    comeBack(): Promise<void> {
      return listen(port);
    },
    close(): Promise<void> {
      closing = true;
      closed ??= shut();
      return closed;
    },
  };
}
