// Test helper: real worker threads running tests/fixtures/protocol-actor.ts, and gates to line
// their steps up.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ActorReply, ActorStep } from '../fixtures/protocol-actor.js';

const entryFile = new URL('./ts-entry.mjs', import.meta.url);
const actorFile = new URL('../fixtures/protocol-actor.ts', import.meta.url);

export class Gates {
  readonly buffer = new SharedArrayBuffer(4 * 256);
  readonly #words = new Int32Array(this.buffer);
  open(index: number): void {
    Atomics.store(this.#words, index, 1);
    Atomics.notify(this.#words, index);
  }
}

export class Actor {
  readonly #worker: Worker;
  readonly #replies: ActorReply[] = [];
  #waiters: Array<() => void> = [];

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: ActorReply) => {
      this.#replies.push(reply);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async start(control: SharedArrayBuffer, gates: Gates): Promise<Actor> {
    const worker = new Worker(entryFile, { workerData: { entry: actorFile.href, control, gates: gates.buffer } });
    await once(worker, 'online');
    return new Actor(worker);
  }

  /** Sends steps; they run in order in the actor's thread. */
  send(...steps: ActorStep[]): void {
    this.#worker.postMessage(steps);
  }

  /** Resolves with the reply to the n-th step sent so far (0-based), once it has run. */
  async reply(n: number): Promise<ActorReply> {
    while (this.#replies.length <= n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.#replies[n] as ActorReply;
  }

  /** Whether the n-th step has run. */
  has(n: number): boolean {
    return this.#replies.length > n;
  }

  stop(): Promise<number> {
    return this.#worker.terminate();
  }
}
