// A minimal `fetch` over node:http(s) with a keep-alive Agent, for the openai client.
//
// Why not the global fetch: on a latency-bound batch the HTTP client's CPU per request decides
// throughput, and Node 20's fetch (undici behind WHATWG streams) costs several times more CPU per
// request than node:http with a keep-alive Agent (the original brief measured ~900 vs ~2,900 items/s on one
// thread; benchmarks/latency-throughput.ts measures it inside batch-llm). The openai client takes
// a custom `fetch`, so the transport is ours to choose while everything else stays the official
// client. Request and response bodies here are small JSON documents: the body is read whole.

import http from 'node:http';
import https from 'node:https';

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers === undefined) return record;
  new Headers(headers).forEach((value, key) => {
    record[key] = value;
  });
  return record;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** A fetch that keeps up to `maxSockets` connections per host open between requests. */
export function createHttpFetch(maxSockets: number): Fetch {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets, scheduling: 'lifo' }),
    'https:': new https.Agent({ keepAlive: true, maxSockets, scheduling: 'lifo' }),
  };
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
      if (transport === undefined) {
        reject(new TypeError(`unsupported protocol ${url.protocol}`));
        return;
      }
      const { signal } = init;
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const body = init.body;
      if (body !== undefined && body !== null && typeof body !== 'string') {
        reject(new TypeError('http-fetch sends string bodies only'));
        return;
      }
      const request = transport.request(url, {
        method: init.method ?? 'GET',
        headers: headerRecord(init.headers),
        agent: agents[url.protocol as 'http:' | 'https:'],
      });
      const onAbort = () => request.destroy(abortError(signal as AbortSignal) as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const headers = new Headers();
          for (const [key, value] of Object.entries(response.headers)) {
            if (Array.isArray(value)) for (const v of value) headers.append(key, v);
            else if (value !== undefined) headers.set(key, value);
          }
          const status = response.statusCode ?? 0;
          // A Response with a body may not have a null-body status (204, 304 …).
          const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(payload, { status, statusText: response.statusMessage ?? '', headers }));
        });
      });
      request.end(body ?? undefined);
    });
}
