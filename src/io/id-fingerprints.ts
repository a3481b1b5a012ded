// The first input line of each custom_id, for an input that can be read again (a file): a 32-bit
// fingerprint and a line number per id, 8 bytes a slot whatever the id's length, confirmed
// against the input itself.
//
// Catching repeated custom_ids is the one thing of a run that grows with its input (issue 12
// point 5). An exact table must hold every id's bytes (id-table.ts: ~28 bytes per id of ten or so
// characters, ~55 for a UUID). A file need not be held: it is still there. So a slot holds only
// a hash of the id and its line; when a new id's hash equals a stored one, the stored line is read
// back from the file (`confirm`) and the ids compared. The answer stays exact; the re-reading
// costs little, because it happens for real repeats and, for unique ids, about n²/2³³ times in
// a run of n ids (~120 for a million, each a read of at most a few dozen lines).
//
// Open addressing with linear probing over `slots` entries, at most 70 % full (a new id probes
// about six slots). Sized once from the line count when it is known: growing would hold the old
// and the new table at once.

/** A slot's fingerprint 0 means free; a hash of 0 is stored as 1 (one more collision, confirmed like the others). */
const FREE = 0;
const MAX_LOAD = 0.7;
const MIN_SLOTS = 1024;

/** FNV-1a over the id's UTF-16 code units, then murmur3's finalizer: every bit of the result depends on every unit. */
export function idFingerprint(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0 || 1;
}

export class IdFingerprints {
  /** Slot `s` holds its fingerprint at `2s` and its line at `2s + 1`. */
  #slots: Uint32Array;
  #capacity: number;
  #size = 0;
  readonly #confirm: (line: number, id: string) => boolean;

  /**
   * `confirm(line, id)` says whether input line `line` (one recorded here) has the custom_id `id`;
   * `expected` is how many ids to make room for at once (the input's line count, when known).
   */
  constructor(confirm: (line: number, id: string) => boolean, expected = 0) {
    this.#confirm = confirm;
    this.#capacity = Math.max(MIN_SLOTS, Math.ceil(expected / MAX_LOAD) + 1);
    this.#slots = new Uint32Array(this.#capacity * 2);
  }

  get size(): number {
    return this.#size;
  }

  /** The first line of `id` if an earlier line had it; else records `line` as its first and returns undefined. */
  firstLine(id: string, line: number): number | undefined {
    const print = idFingerprint(id);
    const slots = this.#slots;
    let slot = print % this.#capacity;
    for (;;) {
      const stored = slots[2 * slot] as number;
      if (stored === FREE) break;
      if (stored === print && this.#confirm(slots[2 * slot + 1] as number, id)) return slots[2 * slot + 1];
      slot = slot + 1 === this.#capacity ? 0 : slot + 1;
    }
    if (this.#size + 1 > this.#capacity * MAX_LOAD) {
      this.#grow();
      this.#place(print, line);
    } else {
      slots[2 * slot] = print;
      slots[2 * slot + 1] = line;
    }
    this.#size += 1;
    return undefined;
  }

  #place(print: number, line: number): void {
    const slots = this.#slots;
    let slot = print % this.#capacity;
    while (slots[2 * slot] !== FREE) slot = slot + 1 === this.#capacity ? 0 : slot + 1;
    slots[2 * slot] = print;
    slots[2 * slot + 1] = line;
  }

  /** Doubles the table (only when more ids came than expected), re-placing each entry by its fingerprint. */
  #grow(): void {
    const old = this.#slots;
    this.#capacity *= 2;
    this.#slots = new Uint32Array(this.#capacity * 2);
    for (let at = 0; at < old.length; at += 2) if (old[at] !== FREE) this.#place(old[at] as number, old[at + 1] as number);
  }
}
