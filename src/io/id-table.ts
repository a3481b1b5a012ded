// A map from custom_id to a number (its input line), for millions of ids in little memory.
//
// A Map<string, number> costs ~60 bytes of V8 heap per id, and the heap grows to two or three
// times its live size before it collects: a million ids took ~250 MB of RSS. Here the ids' UTF-8
// bytes live in one growing byte arena and the table in typed arrays — outside the garbage-
// collected heap, ~40 bytes per id. Lookups are exact: a hash match is confirmed byte by byte.

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over `length` bytes of `bytes`. */
function fnv1a(bytes: Uint8Array, length: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < length; i += 1) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash >>> 0;
}

export class IdTable {
  #arena = new Uint8Array(1 << 16);
  #arenaUsed = 0;
  #scratch = new Uint8Array(256);
  // Open addressing with linear probing; a slot is free while its length is 0 (lengths are stored +1).
  #hashes = new Uint32Array(1 << 10);
  #offsets = new Uint32Array(1 << 10);
  #lengths = new Uint32Array(1 << 10);
  #values = new Uint32Array(1 << 10);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The number stored for `id`, or undefined. */
  get(id: string): number | undefined {
    const length = this.#encode(id);
    const slot = this.#find(fnv1a(this.#scratch, length), length);
    return this.#lengths[slot] === 0 ? undefined : this.#values[slot];
  }

  /** Stores `value` (an unsigned 32-bit integer) for `id`. */
  set(id: string, value: number): void {
    const length = this.#encode(id);
    const hash = fnv1a(this.#scratch, length);
    let slot = this.#find(hash, length);
    if (this.#lengths[slot] !== 0) {
      this.#values[slot] = value;
      return;
    }
    if ((this.#size + 1) * 2 > this.#hashes.length) {
      this.#grow();
      slot = this.#find(hash, length);
    }
    this.#hashes[slot] = hash;
    this.#offsets[slot] = this.#store(length);
    this.#lengths[slot] = length + 1;
    this.#values[slot] = value;
    this.#size += 1;
  }

  /** Encodes `id` into the scratch buffer; returns its byte length. */
  #encode(id: string): number {
    if (id.length * 3 > this.#scratch.length) this.#scratch = new Uint8Array(id.length * 3);
    return encoder.encodeInto(id, this.#scratch).written;
  }

  /** The slot holding the scratch bytes, or the free slot where they would go. */
  #find(hash: number, length: number): number {
    const mask = this.#hashes.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = this.#lengths[slot] as number;
      if (stored === 0) return slot;
      if (this.#hashes[slot] === hash && stored === length + 1 && this.#sameBytes(this.#offsets[slot] as number, length)) return slot;
    }
  }

  #sameBytes(offset: number, length: number): boolean {
    for (let i = 0; i < length; i += 1) if (this.#arena[offset + i] !== this.#scratch[i]) return false;
    return true;
  }

  /** Appends the scratch bytes to the arena; returns their offset. */
  #store(length: number): number {
    if (this.#arenaUsed + length > this.#arena.length) {
      const grown = new Uint8Array(Math.max(this.#arena.length * 2, this.#arenaUsed + length));
      grown.set(this.#arena.subarray(0, this.#arenaUsed));
      this.#arena = grown;
    }
    this.#arena.set(this.#scratch.subarray(0, length), this.#arenaUsed);
    this.#arenaUsed += length;
    return this.#arenaUsed - length;
  }

  /** Doubles the table, re-placing every entry by its stored hash. */
  #grow(): void {
    const old = { hashes: this.#hashes, offsets: this.#offsets, lengths: this.#lengths, values: this.#values };
    const capacity = old.hashes.length * 2;
    this.#hashes = new Uint32Array(capacity);
    this.#offsets = new Uint32Array(capacity);
    this.#lengths = new Uint32Array(capacity);
    this.#values = new Uint32Array(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < old.hashes.length; i += 1) {
      if (old.lengths[i] === 0) continue;
      let slot = (old.hashes[i] as number) & mask;
      while (this.#lengths[slot] !== 0) slot = (slot + 1) & mask;
      this.#hashes[slot] = old.hashes[i] as number;
      this.#offsets[slot] = old.offsets[i] as number;
      this.#lengths[slot] = old.lengths[i] as number;
      this.#values[slot] = old.values[i] as number;
    }
  }
}
