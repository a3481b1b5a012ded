// Where finished lines go before the file: straight through (completion order), or through a
// reorder buffer that writes them in input order (--preserve-order).
//
// The buffer stays bounded without deadlock because the input side asks for room first: the
// reader waits before handing out sequence number k until line k - window has been written. The
// engine's scheduler reads its source concurrently with running items (scheduler.ts), so the
// items before k keep running and finishing while the reader waits, and line k - window is
// among them. At most `window` lines are ever held.

export interface ResultOrder {
  /** Writes (or holds) the line of sequence number `seq`. Every handed-out `seq` is put exactly once. */
  put(seq: number, text: string): void;
  /** Resolves once `seq` may be handed out; null when it may be right away. */
  roomFor(seq: number): Promise<void> | null;
  /** Lines held, waiting for an earlier one. */
  readonly held: number;
}

/** Completion order: every line is written as it comes. */
export function completionOrder(write: (text: string) => void): ResultOrder {
  return { put: (_seq, text) => write(text), roomFor: () => null, held: 0 };
}

/** Input order, holding at most `window` lines. */
export class InputOrder implements ResultOrder {
  readonly #write: (text: string) => void;
  readonly #window: number;
  readonly #waiting = new Map<number, string>();
  /** The sequence number of the next line to write; every line before it is written. */
  #next = 0;
  #room: { seq: number; resolve: () => void } | null = null;

  constructor(write: (text: string) => void, window: number) {
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`Expected \`window\` to be an integer >= 1, got \`${window}\``);
    this.#write = write;
    this.#window = window;
  }

  get held(): number {
    return this.#waiting.size;
  }

  put(seq: number, text: string): void {
    if (seq !== this.#next) {
      this.#waiting.set(seq, text);
      return;
    }
    this.#write(text);
    this.#next += 1;
    for (let line = this.#waiting.get(this.#next); line !== undefined; line = this.#waiting.get(this.#next)) {
      this.#waiting.delete(this.#next);
      this.#write(line);
      this.#next += 1;
    }
    if (this.#room !== null && this.#room.seq < this.#next + this.#window) {
      const { resolve } = this.#room;
      this.#room = null;
      resolve();
    }
  }

  roomFor(seq: number): Promise<void> | null {
    if (seq < this.#next + this.#window) return null;
    // One reader: at most one wait at a time.
    return new Promise((resolve) => (this.#room = { seq, resolve }));
  }
}
