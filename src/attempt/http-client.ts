// One HTTP attempt, straight over node:http(s) with a keep-alive Agent: the request body is
// serialized once, the answer read once into one Buffer and parsed once. The client never retries
// on its own: every retry is ours, visible to the scheduler and the shared cooldown.
//
// Why not the openai client on the hot path: on a latency-bound batch the client's CPU per request
// decides throughput, and the official client (its header merging, request logging, AbortSignal
// per request, WHATWG Headers/Response objects) cost ~300 µs of CPU per request on a worker thread
// against ~70 µs for a bare node:http loop (benchmarks/README.md, "HTTP path"). What users rely on
// from it is kept: its error classes and status mapping (`APIError.generate` from 'openai/error',
// which loads in ~7 ms instead of the whole client's ~65 ms), the message format of status errors,
// request ids, and a connection error still being an `APIConnectionError` — with its cause named.
//
// Check the gate as late as possible: the request is not written until its socket is ready (a
// reused one at once, a new one after connect / TLS handshake), and `beforeWrite` is asked then.
// When it says no (a cooldown opened meanwhile), nothing is sent and the attempt goes back to the
// gate: a fresh connection under load takes tens of ms, and a request written after another
// thread's 429 would arrive into the cooldown.

import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai/error';
import type { Cancellation } from '../control/stop.js';
import { redactAll } from '../model/redact.js';
import { classifyError, type ClassifiedFailure } from './classify.js';
import { checkCompletion } from './completion-check.js';

export interface ClientSettings {
  baseURL: string;
  apiKey: string;
  /**
   * Text kept out of every body and message the thread makes: the API key, and the base URL's
   * password and credential query values (model/redact.ts runSecrets), should the server echo them. The
   * response cache stores bodies as redacted as the results file shows them.
   */
  secrets: string[];
  attemptTimeoutMs: number;
  /** Extra headers for every request; they override the defaults below. */
  headers: Record<string, string>;
  /** Most connections this thread keeps open to the endpoint. */
  maxSockets: number;
  /** Largest answer body read, in bytes; a larger one fails its item as bad_request/response_too_large. */
  maxResponseBytes: number;
  /** The User-Agent header: batch-llm/<version>. */
  userAgent: string;
}

export type CallResult =
  | { ok: true; status: number; requestId: string | null; body: unknown; headers: http.IncomingHttpHeaders | null }
  | { ok: false; failure: ClassifiedFailure }
  /** `beforeWrite` said no: nothing went on the wire. */
  | { ok: 'unsent' };

export interface HttpClient {
  /** Sends one POST; never throws. `timeoutMs` and `cancellation` bound this one attempt. */
  post(path: string, body: Record<string, unknown>, timeoutMs: number, cancellation: Cancellation, beforeWrite: () => boolean): Promise<CallResult>;
  close(): void;
}

/** Error bodies are kept in results up to this size; longer ones are cut (and not read further). */
export const ERROR_BODY_LIMIT = 8 * 1024;
/** Longest server text quoted in a failure message. */
const MESSAGE_TEXT_LIMIT = 300;

/** The path relative to the base URL (which ends in /v1) for an item's `url`. */
export function endpointPath(url: string | undefined): string {
  const path = url ?? '/v1/chat/completions';
  return path.startsWith('/v1/') ? path.slice(3) : path;
}

function cut(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length} chars, cut)`;
}

/**
 * The headers every request carries, fixed per client, so they are built once — as the flat
 * [name, value, …] list node:http takes as written (like `rawHeaders`): given an object it would
 * check and store every header again for every request (`setHeader` and `_storeHeader`, ~5 % of a
 * worker thread's garbage), and given a list it adds none of its own, so Host is in the list too.
 */
function baseHeaders(settings: ClientSettings, host: string): string[] {
  const headers: Record<string, string> = {
    host,
    accept: 'application/json',
    'content-type': 'application/json',
    'user-agent': settings.userAgent,
  };
  if (settings.apiKey !== '') headers['authorization'] = `Bearer ${settings.apiKey}`;
  // The same environment variables the openai client reads for these headers.
  const organization = process.env['OPENAI_ORG_ID'];
  const project = process.env['OPENAI_PROJECT_ID'];
  if (organization) headers['openai-organization'] = organization;
  if (project) headers['openai-project'] = project;
  // Custom headers win, whatever their case.
  for (const [name, value] of Object.entries(settings.headers)) headers[name.toLowerCase()] = value;
  return Object.entries(headers).flat();
}

/** "Connection error: connect ECONNREFUSED 127.0.0.1:8099" — the cause named, not hidden. */
function connectionError(error: Error): APIConnectionError {
  const code = (error as NodeJS.ErrnoException).code;
  const detail = code !== undefined && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  return new APIConnectionError({ message: `Connection error: ${detail}`, cause: error });
}

/** A status error as the openai client builds it: the error body's message, code, type. */
function statusError(status: number, raw: string, headers: http.IncomingHttpHeaders): APIError {
  let json: unknown;
  try {
    json = raw === '' ? undefined : JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const fetchHeaders = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') fetchHeaders.set(name, value);
    else if (Array.isArray(value)) for (const v of value) fetchHeaders.append(name, v);
  }
  const errorResponse = typeof json === 'object' && json !== null ? json : undefined;
  // A non-JSON body (an HTML error page) becomes the message, as in the openai client, cut short.
  const message = errorResponse === undefined && raw !== '' ? cut(raw, MESSAGE_TEXT_LIMIT) : undefined;
  return APIError.generate(status, errorResponse, message, fetchHeaders);
}

function requestIdOf(headers: http.IncomingHttpHeaders): string | null {
  const id = headers['x-request-id'];
  return typeof id === 'string' ? id : null;
}

export function createHttpClient(settings: ClientSettings): HttpClient {
  const base = new URL(settings.baseURL);
  const secure = base.protocol === 'https:';
  if (!secure && base.protocol !== 'http:') throw new TypeError(`expected an http: or https: base URL, got ${base.protocol}`);
  const transport = secure ? https : http;
  // https.Agent uses Node's CA bundle, plus the system store when Node runs with
  // --use-system-ca / NODE_EXTRA_CA_CERTS, exactly like the openai client's fetch did.
  const agent = new transport.Agent({ keepAlive: true, maxSockets: settings.maxSockets, scheduling: 'lifo' });
  // URL.host: the port only when not the scheme's default, an IPv6 address in brackets — the
  // Host header node:http would have made.
  const headers = baseHeaders(settings, base.host);
  const basePath = base.pathname.replace(/\/$/, '');
  // The base URL's query goes with every request: Azure's `?api-version=`, a gateway's `?key=`.
  const query = base.search;
  const port = base.port === '' ? undefined : Number(base.port);
  const { secrets, maxResponseBytes } = settings;
  const readyEvent = secure ? 'secureConnect' : 'connect';

  function post(path: string, body: Record<string, unknown>, timeoutMs: number, cancellation: Cancellation, beforeWrite: () => boolean): Promise<CallResult> {
    const payload = JSON.stringify(body);
    return new Promise<CallResult>((resolve) => {
      let settled = false;
      const settle = (result: CallResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stopWatching();
        resolve(result);
      };
      const failWith = (error: unknown) => {
        if (settled) return;
        const failure = classifyError(error, Date.now());
        failure.message = redactAll(failure.message, secrets);
        settle({ ok: false, failure });
      };
      // Already cancelled: fail before anything is made (settle would clear a timer not made yet).
      if (cancellation.cancelled) {
        resolve({ ok: false, failure: classifyError(new APIUserAbortError(), Date.now()) });
        return;
      }
      const request = transport.request({
        method: 'POST',
        host: base.hostname,
        port,
        path: `${basePath}${path.startsWith('/') ? path : `/${path}`}${query}`,
        headers: [...headers, 'content-length', String(Buffer.byteLength(payload))],
        agent,
      });
      // Settle first, then destroy: the 'error' that destroy emits finds the promise settled.
      const end = (error: unknown) => {
        failWith(error);
        request.destroy();
      };
      const endTooLarge = (bytes: number) => {
        settle({ ok: false, failure: tooLarge(bytes) });
        request.destroy();
      };
      const stopWatching = cancellation.onCancel(() => end(new APIUserAbortError()));
      const timer = setTimeout(() => end(new APIConnectionTimeoutError({ message: `Request timed out after ${timeoutMs} ms.` })), timeoutMs);

      const write = () => {
        if (settled) return;
        if (!beforeWrite()) {
          settle({ ok: 'unsent' });
          request.destroy();
          return;
        }
        request.end(payload);
      };
      request.on('socket', (socket: Socket) => {
        // A reused keep-alive socket is ready now; a new one once connected (and, for TLS, once
        // the handshake is done).
        if (socket.connecting) socket.once(readyEvent, write);
        else write();
      });
      request.on('error', (error) => {
        if (!settled) failWith(connectionError(error));
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const declared = Number(response.headers['content-length'] ?? NaN);
        const limit = ok ? maxResponseBytes : ERROR_BODY_LIMIT;
        if (ok && declared > limit) {
          endTooLarge(declared);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let cutShort = false;
        response.on('data', (chunk: Buffer) => {
          if (cutShort) return;
          size += chunk.length;
          if (size > limit) {
            if (ok) {
              endTooLarge(size);
              return;
            }
            // Keep the head of a huge error body and stop reading: the connection is dropped.
            chunks.push(chunk.subarray(0, chunk.length - (size - limit)));
            cutShort = true;
            finish();
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        // The connection closed before the whole body came (a reset mid-answer, a body shorter
        // than its Content-Length): 'close' without 'complete'; 'error' may or may not come too.
        const cutOff = () => {
          if (!response.complete) end(connectionError(new Error(`the response was cut off after ${size} bytes (status ${status})`)));
        };
        response.on('error', cutOff);
        response.on('close', cutOff);
        response.on('end', finish);
        function finish() {
          if (settled) return;
          const buffer = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
          // A server that echoes the key (in an error message, a debug field) must not put it
          // in our results: the raw text is cleaned before anything reads it.
          const raw = redactAll(buffer.toString('utf8'), secrets);
          if (!ok) {
            failWith(statusError(status, cutShort ? `${raw}… (cut at ${limit} bytes)` : raw, response.headers));
            return;
          }
          const checked = checkCompletion(path, raw, response.headers['content-type']);
          if (!checked.ok) {
            settle({ ok: false, failure: { ...checked.failure, status, requestId: requestIdOf(response.headers), headers: response.headers } });
            return;
          }
          settle({ ok: true, status, requestId: requestIdOf(response.headers), body: checked.body, headers: response.headers });
        }
      });
    });
  }

  function tooLarge(bytes: number): ClassifiedFailure {
    return {
      category: 'bad_request',
      code: 'response_too_large',
      status: null,
      message: `the response is larger than the limit of ${maxResponseBytes} bytes (maxResponseBytes; got ${bytes} bytes or more)`,
      hintMs: null,
      requestId: null,
      body: null,
      headers: null,
    };
  }

  return { post, close: () => agent.destroy() };
}
