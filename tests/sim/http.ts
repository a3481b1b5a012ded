/** Small helpers for talking to the simulator over real HTTP in tests. */
import type { Simulator } from '../../src/sim/index.js';

export interface ChatReply {
  readonly status: number;
  readonly headers: Headers;
  readonly json: unknown;
}

export interface ChatInit {
  readonly body?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

/** POSTs a chat completion whose last user message is `key`. */
export async function chat(sim: Simulator, key: string, init: ChatInit = {}): Promise<ChatReply> {
  const response = await fetch(`${sim.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify({ model: 'sim-test', messages: [{ role: 'user', content: key }], ...init.body }),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: JSON.parse(text) as unknown };
}

/** Reads a nested field of parsed JSON without casting through `any`. */
export function field(value: unknown, ...path: (string | number)[]): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds (or fails after `timeoutMs`): for effects that land on a later tick. */
export async function eventually(check: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}
