// Telling a JSON object from everything else (null, arrays, strings …), once for every reader
// of untrusted JSON: input lines, results files, request bodies, simulator options.

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
