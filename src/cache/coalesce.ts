// Coalescing of identical requests in flight at the same moment, on the main thread before
// dispatch. Only the main thread sees every item before any thread does, so a table kept here is
// exact without any cross-thread protocol: the first item of a key (the leader) is dispatched, the
// ones that come while it is running (followers) wait for it and are dispatched afterwards, when
// the leader's answer is in the cache and their thread finds it there. A leader that failed left
// nothing in the cache, so its followers then ask for themselves: no follower inherits a failure.

export class InFlight {
  /** The leader of each key still running. */
  readonly #leaders = new Map<string, Promise<unknown>>();

  /**
   * Runs `task` at once if no task of `key` is running (it leads), else after the leader has
   * settled; followers then run side by side, each finding the leader's answer in the cache.
   */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const leader = this.#leaders.get(key);
    if (leader !== undefined) {
      await leader.then(
        () => undefined,
        () => undefined,
      );
      return task();
    }
    const mine = task();
    this.#leaders.set(key, mine);
    try {
      return await mine;
    } finally {
      this.#leaders.delete(key);
    }
  }
}
