// Worker threads started before their run's settings are known, so that their start-up overlaps
// the main thread's own: the CLI's entry starts them before the rest of the CLI loads when the
// command line alone gives the pool's shape (cli/early-threads.ts), else once the options and the
// task are checked; the CLI then scans the input (SHA-256 and a line count: ~0.16 s for a
// million 160-byte lines) and prepares the results file while they boot; the run hands them its
// settings when it begins (settings-channel.ts).
//
// Why: a thread takes ~100–200 ms from its creation to its first request (a bare Worker runs its
// first line after ~30–70 ms; importing our worker bundle takes ~35–45 ms; then Piscina's
// handshake: benchmarks/README.md, "Ninth pass" and "Tenth pass"), and started by the run it came
// after everything the main thread does first.
// The pool is the one the run would have made (createPool: same threads, concurrency, memory).

import type { WorkerSettings } from '../attempt/settings.js';
import { createPool, type ItemPool } from './pool.js';
import { SettingsOffer } from './settings-channel.js';
import { ThreadBalancer } from './thread-balancer.js';

/** The pool's shape: what the run checks against its own resolved options. */
export interface PoolShape {
  threads: number;
  concurrency: number;
  memoryMb?: number | undefined;
}

export class PrestartedPool {
  readonly #shape: PoolShape;
  readonly balancer = new ThreadBalancer();
  readonly #offer = new SettingsOffer();
  readonly #pool: ItemPool;
  #adopted = false;
  #closed: Promise<void> | null = null;
  // Before the run adopts the pool nothing of ours is on its threads: one that dies meanwhile is
  // replaced by Piscina (and asks for the settings in its turn). Without a listener, Node would
  // throw the pool's 'error' event on the main thread and end the process.
  readonly #ignoreEarlyDeath = (): void => {};

  constructor(shape: PoolShape) {
    this.#shape = shape;
    this.#pool = createPool({ settingsChannel: this.#offer.name }, shape.threads, shape.concurrency, this.balancer, shape.memoryMb);
    this.#pool.on('error', this.#ignoreEarlyDeath);
  }

  /** Whether these threads are the pool a run of `shape` would make, and still free to adopt. */
  fits(shape: PoolShape): boolean {
    const { threads, concurrency, memoryMb } = this.#shape;
    return !this.#adopted && this.#closed === null && shape.threads === threads && shape.concurrency === concurrency && shape.memoryMb === memoryMb;
  }

  /** The pool for a run of this shape, its threads given `settings`. Throws if the shapes differ. */
  adopt(settings: WorkerSettings, shape: PoolShape): ItemPool {
    if (this.#adopted || this.#closed !== null) throw new Error('batch-llm internal error: threads started for one run were offered to another, or after they were closed');
    if (!this.fits(shape)) {
      throw new Error(`batch-llm internal error: threads started for ${JSON.stringify(this.#shape)}, the run wants ${JSON.stringify(shape)}`);
    }
    this.#adopted = true;
    this.#pool.off('error', this.#ignoreEarlyDeath);
    this.#offer.deliver(settings);
    return this.#pool;
  }

  /** Ends the threads (whether or not a run adopted them); safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= this.#pool.destroy().finally(() => this.#offer.close());
    return this.#closed;
  }
}
