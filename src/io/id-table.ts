// A map from custom_id to a number (its input line), for millions of ids in little memory.
//
// A Map<string, number> costs ~60 bytes of V8 heap per id, and the heap grows to two or three
// times its live size before it collects: a million ids took ~250 MB of RSS. Here everything
// lives outside the garbage-collected heap, ~28 bytes per id for ids of ten or so characters
// (issue 12 point 5: this table is the one thing of a run that grows with its input):
//
// - each entry (its value, its byte length, the id's UTF-8 bytes) is appended to an arena of
//   1 MB pages, so growing the arena never copies it, and never holds an old and a new copy at
//   once (a doubling array peaks at three times its contents while it grows);
// - the hash table holds one 32-bit reference per slot — where the entry starts in the arena —
//   and nothing else: a probe compares the id's bytes directly (confirming a match byte by byte
//   keeps lookups exact), and growing the table re-hashes each id from its bytes.
//
// References are byte offsets into the arena, so the arena holds at most 4 GB (over 100 million
// ids); `set` throws past that rather than mixing entries up.

const encoder = new TextEncoder();

const PAGE_BITS = 20;
const PAGE_SIZE = 1 << PAGE_BITS;
/** value (4 bytes) + byte length (4 bytes), then the id's bytes. */
const HEADER = 8;
/** The table doubles when it would be fuller than this: short probe runs, and 4 bytes a slot. */
const MAX_LOAD = 0.6;

/** FNV-1a, 32 bits, over bytes [start, end) of `bytes`. */
function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i += 1) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash >>> 0;
}

function readU32(page: Uint8Array, at: number): number {
  return ((page[at] as number) | ((page[at + 1] as number) << 8) | ((page[at + 2] as number) << 16) | ((page[at + 3] as number) << 24)) >>> 0;
}

function writeU32(page: Uint8Array, at: number, value: number): void {
  page[at] = value & 0xff;
  page[at + 1] = (value >>> 8) & 0xff;
  page[at + 2] = (value >>> 16) & 0xff;
  page[at + 3] = (value >>> 24) & 0xff;
}

export class IdTable {
  /** Page `i` holds arena bytes [i × PAGE_SIZE, (i + 1) × PAGE_SIZE); an entry never straddles two. */
  readonly #pages: Uint8Array[] = [];
  /** Arena bytes in use: where the next entry goes. */
  #used = 0;
  #scratch = new Uint8Array(256);
  /** Open addressing with linear probing; a slot holds its entry's arena offset + 1 (0: free). */
  #slots = new Uint32Array(1 << 10);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The number stored for `id`, or undefined. */
  get(id: string): number | undefined {
    const length = this.#encode(id);
    const slot = this.#find(fnv1a(this.#scratch, 0, length), length);
    const ref = this.#slots[slot] as number;
    if (ref === 0) return undefined;
    const offset = ref - 1;
    return readU32(this.#pageOf(offset), offset & (PAGE_SIZE - 1));
  }

  /** Stores `value` (an unsigned 32-bit integer) for `id`. */
  set(id: string, value: number): void {
    const length = this.#encode(id);
    const hash = fnv1a(this.#scratch, 0, length);
    let slot = this.#find(hash, length);
    const ref = this.#slots[slot] as number;
    if (ref !== 0) {
      writeU32(this.#pageOf(ref - 1), (ref - 1) & (PAGE_SIZE - 1), value);
      return;
    }
    if (this.#size + 1 > this.#slots.length * MAX_LOAD) {
      this.#grow();
      slot = this.#find(hash, length);
    }
    this.#slots[slot] = this.#store(length, value) + 1;
    this.#size += 1;
  }

  /** Encodes `id` into the scratch buffer; returns its byte length. */
  #encode(id: string): number {
    if (id.length * 3 > this.#scratch.length) this.#scratch = new Uint8Array(id.length * 3);
    return encoder.encodeInto(id, this.#scratch).written;
  }

  #pageOf(offset: number): Uint8Array {
    return this.#pages[offset >>> PAGE_BITS] as Uint8Array;
  }

  /** The slot holding the scratch bytes, or the free slot where they would go. */
  #find(hash: number, length: number): number {
    const mask = this.#slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const ref = this.#slots[slot] as number;
      if (ref === 0 || this.#sameBytes(ref - 1, length)) return slot;
    }
  }

  #sameBytes(offset: number, length: number): boolean {
    const page = this.#pageOf(offset);
    const at = offset & (PAGE_SIZE - 1);
    if (readU32(page, at + 4) !== length) return false;
    const scratch = this.#scratch;
    for (let i = 0; i < length; i += 1) if (page[at + HEADER + i] !== scratch[i]) return false;
    return true;
  }

  /** Appends an entry for the scratch bytes; returns its arena offset. */
  #store(length: number, value: number): number {
    const bytes = HEADER + length;
    let at = this.#used & (PAGE_SIZE - 1);
    if (this.#used >= this.#pages.length * PAGE_SIZE || at + bytes > PAGE_SIZE) {
      // A new page; one longer than PAGE_SIZE holds an id longer than a page, alone, and takes
      // as many page numbers as it spans (they all point at it), so offsets stay plain sums.
      const pages = Math.ceil(bytes / PAGE_SIZE);
      const start = this.#pages.length;
      if ((start + pages) * PAGE_SIZE > 2 ** 32 - 1) throw new Error('batch-llm: more custom_ids than the id table holds (4 GB of ids)');
      const page = new Uint8Array(pages * PAGE_SIZE);
      for (let i = 0; i < pages; i += 1) this.#pages.push(page);
      this.#used = start * PAGE_SIZE;
      at = 0;
    }
    const offset = this.#used;
    const page = this.#pageOf(offset);
    writeU32(page, at, value);
    writeU32(page, at + 4, length);
    page.set(this.#scratch.subarray(0, length), at + HEADER);
    // An entry that filled its page (or spans several) leaves the next one to a new page.
    this.#used = bytes >= PAGE_SIZE - at ? this.#pages.length * PAGE_SIZE : offset + bytes;
    return offset;
  }

  /** Doubles the table, re-placing every entry by the hash of its bytes. */
  #grow(): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(old.length * 2);
    const mask = this.#slots.length - 1;
    for (const ref of old) {
      if (ref === 0) continue;
      const page = this.#pageOf(ref - 1);
      const at = (ref - 1) & (PAGE_SIZE - 1);
      let slot = fnv1a(page, at + HEADER, at + HEADER + readU32(page, at + 4)) & mask;
      while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
      this.#slots[slot] = ref;
    }
  }
}
