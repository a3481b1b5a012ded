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
 * only means "not sure": anything else is left to the trial clone — a class instance, a Date, a
 * typed array, a proxy, a module namespace or `arguments` (plain-looking, refused by the clone),
 * an array with a named property or a hole, a value deeper or larger than the walk goes (a cycle
 * is deeper; the budget also bounds a shared sub-object reached by many paths).
 */
function isPlainData(value: unknown): boolean {
  const budget = { nodes: MAX_PLAIN_NODES };
  try {
    return walkPlain(value, 0, budget);
  } catch {
    // A getter that throws: the trial clone will say so.
    return false;
  }
}

function walkPlain(value: unknown, depth: number, budget: { nodes: number }): boolean {
  if (typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  if (value === null) return true;
  if (depth >= MAX_PLAIN_DEPTH || types.isProxy(value) || types.isModuleNamespaceObject(value) || types.isArgumentsObject(value)) return false;
  const keys = Object.keys(value);
  budget.nodes -= 1 + keys.length;
  if (budget.nodes < 0) return false;
  if (Array.isArray(value)) {
    // The clone copies an array's named properties too: only elements, and no holes, pass here.
    if (Object.getPrototypeOf(value) !== Array.prototype || keys.length !== value.length) return false;
    // By index: an own Symbol.iterator could hide elements from for-of.
    for (let index = 0; index < value.length; index += 1) if (!walkPlain(value[index], depth + 1, budget)) return false;
    return true;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  const record = value as Record<string, unknown>;
  for (const key of keys) if (!walkPlain(record[key], depth + 1, budget)) return false;
  return true;
}

const MAX_PLAIN_DEPTH = 32;
/** Objects and their properties the walk looks at before it leaves a value to the clone. */
const MAX_PLAIN_NODES = 10_000;
