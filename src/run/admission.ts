// Admission: keep at most `limit` items outstanding and yield their results in completion order.
// Memory stays bounded whatever the input's size: an item is pulled from the source only when a
// slot is free, and a result holds its slot until the consumer has taken it (backpressure).
//
// The source is read concurrently with the running items (one pending `next()` at a time), so a
// source that waits — a slow file, or one that holds back until earlier results are written, as
// --preserve-order does — never keeps finished results from being yielded.

type Step<T> = { kind: 'input'; result: IteratorResult<T> } | { kind: 'finished' };

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
  let signalFinished: (() => void) | undefined;
  let pendingInput: Promise<Step<T>> | undefined;
  let outstanding = 0;
  let exhausted = false;
  try {
    for (;;) {
      // A slot frees only once its result is taken.
      while (finished.length > 0) {
        const result = finished.shift() as R;
        outstanding -= 1;
        yield result;
      }
      if (!exhausted && outstanding < limit && pendingInput === undefined) {
        pendingInput = Promise.resolve(iterator.next()).then((result) => ({ kind: 'input' as const, result }));
      }
      if (pendingInput === undefined && outstanding === 0) return;

      const whenFinished = new Promise<Step<T>>((resolve) => (signalFinished = () => resolve({ kind: 'finished' })));
      const step = await (pendingInput ? Promise.race([pendingInput, whenFinished]) : whenFinished);
      signalFinished = undefined;
      if (step.kind === 'finished') continue;
      pendingInput = undefined;
      if (step.result.done) {
        exhausted = true;
        continue;
      }
      outstanding += 1;
      void run(step.result.value).then((result) => {
        finished.push(result);
        signalFinished?.();
      });
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
