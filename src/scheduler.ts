// Admission: keep at most `limit` items outstanding and yield their results in completion order.
// Memory stays bounded whatever the input's size: an item is pulled from the source only when a
// slot is free, and a result holds its slot until the consumer has taken it (backpressure).

/**
 * Runs `run` over `source` with at most `limit` items outstanding (started and not yet yielded).
 * `run` must not reject; wrap failures into its result.
 */
export async function* mapConcurrent<T, R>(
  source: Iterable<T> | AsyncIterable<T>,
  limit: number,
  run: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  const finished: R[] = [];
  let wake: (() => void) | undefined;
  let outstanding = 0;
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && outstanding < limit) {
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        outstanding += 1;
        void run(next.value).then((result) => {
          finished.push(result);
          wake?.();
        });
      }
      if (finished.length === 0) {
        if (outstanding === 0) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      // Yield everything that finished; a slot frees only once its result is taken.
      while (finished.length > 0) {
        const result = finished.shift() as R;
        outstanding -= 1;
        yield result;
      }
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
