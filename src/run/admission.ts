// Admission: keep at most `limit` items outstanding and yield their results in completion order.
// Memory stays bounded whatever the input's size: an item is pulled from the source only when a
// slot is free, and a result holds its slot until the consumer has taken it (backpressure).
//
// The source is read concurrently with the running items (one pending `next()` at a time), so a
// source that waits — a slow file, or one that holds back until earlier results are written, as
// --preserve-order does — never keeps finished results from being yielded.

/**
 * Runs `run` over `source` with at most `limit` items outstanding (started and not yet yielded).
 * `run` must not reject; wrap failures into its result.
 *
 * Written with callbacks and one promise per wait rather than a race of promises per step: this
 * loop runs for every item of every run, and the race cost the main thread ~2 KB of garbage an
 * item (V8's sampling heap profiler); input and finished results now just wake the loop.
 */
export async function* mapConcurrent<T, R>(
  source: Iterable<T> | AsyncIterable<T>,
  limit: number,
  run: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  const finished: R[] = [];
  let outstanding = 0;
  let reading = false;
  let exhausted = false;
  // The source's next() rejected: the loop throws that error.
  const input: { failed: boolean; error: unknown } = { failed: false, error: undefined };
  let wake: (() => void) | null = null;
  const signal = (): void => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  const onFinished = (result: R): void => {
    finished.push(result);
    signal();
  };
  /** Asks the source for its next item when a slot is free and no ask is pending. */
  function pull(): void {
    if (exhausted || reading || outstanding >= limit || input.failed) return;
    reading = true;
    let next: IteratorResult<T> | Promise<IteratorResult<T>>;
    try {
      next = iterator.next();
    } catch (error) {
      // A plain iterator throws where an async one rejects: the loop throws it alike.
      onInputError(error);
      return;
    }
    Promise.resolve(next).then(onInput, onInputError);
  }
  function onInput(result: IteratorResult<T>): void {
    reading = false;
    if (result.done === true) exhausted = true;
    else {
      outstanding += 1;
      void run(result.value).then(onFinished);
      // At once, not when the loop next runs: the source may be waiting for a result to be taken.
      pull();
    }
    signal();
  }
  function onInputError(error: unknown): void {
    reading = false;
    input.failed = true;
    input.error = error;
    signal();
  }
  try {
    for (;;) {
      if (input.failed) throw input.error;
      // A slot frees only once its result is taken.
      while (finished.length > 0) {
        const result = finished.shift() as R;
        outstanding -= 1;
        yield result;
      }
      pull();
      if (!reading && outstanding === 0) return;
      // Input or a finished item wakes the loop (either may have come while it was yielding).
      if (finished.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
