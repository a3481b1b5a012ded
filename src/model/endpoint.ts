// The endpoints a batch can run: the four of the OpenAI Batch request format. One name per
// endpoint, for options and summaries, and its `url` as input lines spell it. Everything that
// differs between them (the answer's shape, its usage fields, how tokens are estimated, where a
// task finds the answer's text) asks this file which endpoint an item is for.

/** An endpoint's short name, as `--endpoint` takes it. */
export type Endpoint = 'chat' | 'completions' | 'embeddings' | 'responses';

/** Each endpoint's `url` in an input line (the OpenAI Batch request format). */
export const ENDPOINT_URLS = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
  responses: '/v1/responses',
} as const satisfies Readonly<Record<Endpoint, string>>;

/** One of the four urls. */
export type EndpointUrl = (typeof ENDPOINT_URLS)[Endpoint];

export const ENDPOINTS = Object.keys(ENDPOINT_URLS) as readonly Endpoint[];

/** The four urls, for messages: "/v1/chat/completions, /v1/completions, …". */
export const SUPPORTED_URLS_TEXT = ENDPOINTS.map((endpoint) => ENDPOINT_URLS[endpoint]).join(', ');

/** The url of a line or item that names none. */
export const DEFAULT_URL = ENDPOINT_URLS.chat;

/** The endpoint of an input line's `url`, or null when it is not one of the four. */
export function endpointOfUrl(url: string | undefined): Endpoint | null {
  if (url === undefined) return 'chat';
  for (const endpoint of ENDPOINTS) if (ENDPOINT_URLS[endpoint] === url) return endpoint;
  return null;
}

/** The endpoint whose request path (relative to a base URL ending in /v1, or the url itself) is `path`; null for another path. */
export function endpointOfPath(path: string): Endpoint | null {
  if (path.endsWith('/chat/completions')) return 'chat';
  if (path.endsWith('/completions')) return 'completions';
  if (path.endsWith('/embeddings')) return 'embeddings';
  if (path.endsWith('/responses')) return 'responses';
  return null;
}
