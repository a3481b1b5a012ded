// Waiting for a word of shared memory to change, without blocking the thread's event loop.
//
// Every wait in batch-llm goes through here, and every one passes the value the caller last saw:
// if the word already differs, Atomics.waitAsync answers synchronously with 'not-equal' and we
// return at once. That is what makes lost wake-ups impossible — a notify that happened between the
// caller's load and its wait has changed the word, so the wait never starts.

/** Resolves once `i32[index]` is notified or no longer equals `seen` (possibly spuriously early). */
export function waitForChange(i32: Int32Array, index: number, seen: number): Promise<unknown> | undefined {
  const result = Atomics.waitAsync(i32, index, seen);
  return result.async ? result.value : undefined;
}

/** The BigInt64 counterpart of {@link waitForChange}. */
export function waitForChange64(i64: BigInt64Array, index: number, seen: bigint): Promise<unknown> | undefined {
  const result = Atomics.waitAsync(i64, index, seen);
  return result.async ? result.value : undefined;
}
