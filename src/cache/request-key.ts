// The cache key of a request: SHA-256 over its canonical form — the endpoint's identity without
// credentials, the endpoint path, and the body as JSON with every object's keys sorted — so two
// requests that mean the same thing share a key whatever order their keys were written in, and
// no API key (which is a header, and never part of the form) can be read back from a key.

import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth; `undefined` members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The key of one request to `endpoint` (model/redact.ts endpointIdentity) at `path` with `body`. */
export function requestKey(endpoint: string, path: string, body: unknown): string {
  return createHash('sha256').update(canonicalJson({ endpoint, path, body })).digest('base64url');
}
