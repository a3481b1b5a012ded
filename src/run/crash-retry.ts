// Running an item again after its worker thread died, without charging its neighbours. A thread
// death takes every item on that thread with it, but usually only one of them killed it. Charging
// them all (as a plain per-item crash count would) fails innocent items beside a killer: they are
// sent again together, die with it again, and run out of attempts with it.
//
// So a death only makes an item a suspect. Suspects are sent again at once, as before; an item on
// a thread that dies a second time goes on trial: trials run one at a time, so a thread that dies
// during a trial was, as far as anyone can tell, killed by the item on trial (the others on that
// thread are not on trial, and are merely suspected again). Only an item on trial can fail as
// `worker_crash`, once it has been on `maxAttempts` dead threads. One killer among hundreds thus
// costs `maxAttempts` thread deaths (two to find it, the rest to be sure) and fails alone; with
// `maxAttempts` below 3, trials start after the first death and a killer costs two.

import { DispatcherClosed } from '../model/errors.js';
import { failedOutcome, type BatchItem, type ItemOutcome } from '../model/outcome.js';
import { redactAll } from '../model/redact.js';

export interface CrashRetryOptions {
  /** Thread deaths after which an item on trial fails as `worker_crash` (`maxAttempts`). */
  maxDeaths: number;
  /** Sends the item to a thread; rejects when that thread died (DispatcherClosed: the run has ended). */
  send(item: BatchItem): Promise<ItemOutcome>;
  /**
   * Called after each death of the item's thread, before anything is sent again (gives the dead
   * thread's permits back); `rerun` says whether the item goes on.
   */
  onDeath(item: BatchItem, deaths: number, rerun: boolean, why: string): void;
  /** True once the run has stopped: a dead thread's items are then not sent again. */
  stopped(): boolean;
  /** The texts to keep out of messages (model/redact.ts runSecrets). */
  secrets: readonly string[];
}

export class CrashRetry {
  readonly #options: CrashRetryOptions;
  /** The trial in progress (resolves when it is over), so that trials run one at a time. */
  #trial: Promise<void> = Promise.resolve();

  constructor(options: CrashRetryOptions) {
    this.#options = options;
  }

  /** The item's outcome; a dead thread's items are sent again, and only a proven killer fails. */
  run(item: BatchItem): Promise<ItemOutcome> {
    // The first send without an async frame of its own: nearly every item ends there, and this
    // runs for every item on the main thread, which binds a fast run.
    return this.#options.send(item).then(undefined, (error: unknown) => this.#died(item, error, 1, false) ?? this.#again(item, 1));
  }

  /** Sends the item again after `deaths` deaths of its threads, until it has an outcome. */
  async #again(item: BatchItem, deaths: number): Promise<ItemOutcome> {
    const { send, maxDeaths } = this.#options;
    for (;;) {
      // With few attempts allowed, go on trial after the first death: fewer threads die for it.
      const onTrial = deaths >= (maxDeaths < 3 ? 1 : 2);
      const endTrial = onTrial ? await this.#startTrial() : undefined;
      try {
        return await send(item);
      } catch (error) {
        deaths += 1;
        const failed = this.#died(item, error, deaths, onTrial);
        if (failed !== null) return failed;
      } finally {
        endTrial?.();
      }
    }
  }

  /** After a send rejected: the item's final outcome, or null to send it again (its `deaths`th death; `onTrial`: it was on trial). */
  #died(item: BatchItem, error: unknown, deaths: number, onTrial: boolean): ItemOutcome | null {
    const { onDeath, stopped, maxDeaths, secrets } = this.#options;
    // The run is over (its consumer left early): nothing may start any more.
    if (error instanceof DispatcherClosed) return failedOutcome(item.custom_id, 'aborted', error.message);
    const why = error instanceof Error ? error.message : String(error);
    const rerun = !((onTrial && deaths >= maxDeaths) || stopped());
    onDeath(item, deaths, rerun, why);
    if (rerun) return null;
    return failedOutcome(item.custom_id, 'worker_crash', redactAll(`its worker thread died ${deaths} time(s): ${why}`, secrets), null, { attempts: deaths });
  }

  /** Waits for the trial before ours to end; returns the function that ends ours. */
  async #startTrial(): Promise<() => void> {
    const before = this.#trial;
    let end = () => {};
    this.#trial = new Promise((resolve) => (end = resolve));
    await before;
    return end;
  }
}
