// Waiting for a word of shared memory to change, without blocking the thread's event loop.
//
// Every wait in batch-llm goes through here, and every one passes the value the caller last saw:
// if the word already differs, Atomics.waitAsync answers synchronously with 'not-equal' and we
// return at once. That is what makes lost wake-ups impossible — a notify that happened between the
// caller's load and its wait has changed the word, so the wait never starts.
//
// Waits are shared within a thread: all of a thread's callers waiting on the same word for the
// same value share one Atomics.waitAsync. A notify then wakes one waiter per thread instead of one
// per item, and that thread resumes all its items in a single run of microtasks — hundreds of
// items held at a closed gate resume within a fraction of a millisecond. (Sharing cannot lose a
// wake-up either: a caller that gets a shared promise saw the same value it was registered with.)

type Word = Int32Array | BigInt64Array;
interface SharedWait {
  readonly seen: number | bigint;
  readonly promise: Promise<unknown>;
}
const waits = new WeakMap<Word, Map<number, SharedWait>>();

function shared(array: Word, index: number, seen: number | bigint, start: () => ReturnType<typeof Atomics.waitAsync>): Promise<unknown> | undefined {
  let slots = waits.get(array);
  if (slots === undefined) waits.set(array, (slots = new Map()));
  const current = slots.get(index);
  if (current !== undefined && current.seen === seen) return current.promise;
  const result = start();
  if (!result.async) return undefined;
  const promise = result.value.finally(() => {
    if (slots.get(index)?.promise === promise) slots.delete(index);
  });
  slots.set(index, { seen, promise });
  return promise;
}

/** Resolves once `i32[index]` is notified or no longer equals `seen` (possibly spuriously early). */
export function waitForChange(i32: Int32Array, index: number, seen: number): Promise<unknown> | undefined {
  return shared(i32, index, seen, () => Atomics.waitAsync(i32, index, seen));
}

/** The BigInt64 counterpart of {@link waitForChange}. */
export function waitForChange64(i64: BigInt64Array, index: number, seen: bigint): Promise<unknown> | undefined {
  return shared(i64, index, seen, () => Atomics.waitAsync(i64, index, seen));
}
