// Whether a value made by task code can travel from its worker thread to the main thread. Outcomes
// cross by structured clone; one value that cannot be cloned fails the whole message, and when
// that message is a chunk task's result, Piscina takes the thread down with every outcome it had
// not sent yet (their answers, already paid for, would be bought again). So a task's value is
// checked where it is made, and only its item fails.

import { types } from 'node:util';

/** null when `value` can be structured-cloned, else what cannot be, e.g. "value.nested.render is a function". */
export function uncloneablePart(value: unknown): string | null {
  if (isPlainData(value)) return null;
  try {
    structuredClone(value);
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    try {
      return findPart(value, 'value', new Set()) ?? message;
    } catch {
      // The walk read a getter that throws, as the clone did.
      return message;
    }
  }
}

/** The first part of `value` that cannot be cloned, by a walk that only runs once cloning failed. */
function findPart(value: unknown, path: string, seen: Set<object>): string | null {
  if (typeof value === 'function') return `${path} is a function`;
  if (typeof value === 'symbol') return `${path} is a symbol`;
  if (typeof value !== 'object' || value === null || seen.has(value)) return null;
  seen.add(value);
  const entries = value instanceof Map ? [...value.entries()].map(([key, item], index) => [`<map entry ${index}: ${String(key)}>`, item] as const) : Object.entries(value);
  for (const [key, item] of entries) {
    const found = findPart(item, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, seen);
    if (found !== null) return found;
  }
  try {
    structuredClone(value);
    return null;
  } catch {
    return `${path} (${Object.prototype.toString.call(value)}) cannot be copied`;
  }
}

/**
 * Whether `value` is made only of primitives, arrays and plain objects: what JSON gives and what
 * task code mostly returns, all of it cloneable. A walk costs ~0.6 µs for a chat completion, a
 * trial structuredClone ~5 µs (benchmarks/framework-overhead.ts ran ~4 µs an item faster). false
 * only means "not sure": anything else (a class instance, a Date, a typed array, a proxy, a value
 * deeper than the walk goes, which a cycle is) is left to the trial clone.
 */
function isPlainData(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  if (value === null) return true;
  if (depth >= MAX_PLAIN_DEPTH || types.isProxy(value)) return false;
  try {
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) return false;
      for (const item of value as unknown[]) if (!isPlainData(item, depth + 1)) return false;
      return true;
    }
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return false;
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) if (!isPlainData(record[key], depth + 1)) return false;
    return true;
  } catch {
    // A getter that throws: the trial clone will say so.
    return false;
  }
}

const MAX_PLAIN_DEPTH = 32;
