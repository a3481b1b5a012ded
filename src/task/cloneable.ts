// Whether a value made by task code can travel from its worker thread to the main thread. Outcomes
// cross by structured clone; one value that cannot be cloned fails the whole message, and when
// that message is a chunk task's result, Piscina takes the thread down with every outcome it had
// not sent yet (their answers, already paid for, would be bought again). So a task's value is
// checked where it is made, and only its item fails.

/** null when `value` can be structured-cloned, else what cannot be, e.g. "value.nested.render is a function". */
export function uncloneablePart(value: unknown): string | null {
  try {
    structuredClone(value);
    return null;
  } catch (error) {
    return findPart(value, 'value', new Set()) ?? (error instanceof Error ? error.message : String(error));
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
