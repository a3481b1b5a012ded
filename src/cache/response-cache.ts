// The response cache: successful answers of an OpenAI-compatible endpoint, keyed by the request
// they answer (request-key.ts), in an LMDB environment in one directory. LMDB is an embedded
// B+tree in a memory-mapped file with one writer at a time and lock-free readers, safe to share by
// every worker thread of a run and by several processes at once, and it holds millions of entries
// without loading them: a lookup is a synchronous read of the map, no I/O round trip (figures in
// benchmarks/README.md, "Response cache"). Each thread opens its own handle; LMDB coordinates
// them through its lock file.
//
// This folder sits on the io floor (2): it imports only model/ and node/lmdb, so the attempt loop
// (attempt/, floor 3) can read and write the cache, and the main thread (run/) can coalesce
// identical requests (coalesce.ts) and the CLI can report on and prune it (cache stats / prune).

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { OptionsError } from '../model/errors.js';

export { CACHE_MODES, type CacheMode } from './cache-mode.js';

/** One stored answer. Short field names: they are repeated in every entry (msgpack keeps them). */
interface Entry {
  /** When it was stored, epoch ms (what `prune --older-than` compares). */
  t: number;
  /** HTTP status of the answer. */
  s: number;
  /** The provider's request id of the original answer. */
  r: string | null;
  /** The response body. */
  b: unknown;
}

export interface CachedAnswer {
  status: number;
  requestId: string | null;
  body: unknown;
  storedAt: number;
}

export interface CacheStats {
  entries: number;
  /** Size of the data file on disk, in bytes (LMDB grows it in pages and never shrinks it). */
  fileBytes: number;
  /** Bytes of the pages in use (branch, leaf and overflow pages). */
  usedBytes: number;
  /** usedBytes / entries, or null when empty. */
  bytesPerEntry: number | null;
}

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && typeof (value as Entry).t === 'number' && typeof (value as Entry).s === 'number';
}

export class ResponseCache {
  readonly #db: RootDatabase<Entry, string>;
  readonly directory: string;

  constructor(directory: string) {
    this.directory = directory;
    try {
      // No object cache of our own in JS: entries are read once per item, and a run's memory must
      // not grow with the cache. Bodies are compressed (lz4) above lmdb's threshold.
      this.#db = open<Entry, string>({ path: directory, compression: true, cache: false });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new OptionsError(`Expected \`cache\` to be a directory batch-llm can open as a response cache, got \`${directory}\`: ${why}`);
    }
  }

  /** The stored answer for `key`, or null. Synchronous: a read of the memory map. */
  get(key: string): CachedAnswer | null {
    let entry: unknown = this.#db.get(key);
    // A miss may be only this thread's read snapshot being older than the answer: lmdb-js keeps a
    // thread's read transaction until that thread's next timer phase, and a busy worker thread
    // reads through one begun before another thread or process committed. Seen: followers of a
    // coalesced request (cache/coalesce.ts), sent once their leader's answer was stored, missed
    // it and asked again (24 of 49, under load). So a miss looks again in a fresh snapshot; a hit
    // costs nothing more, and a true miss is followed by a request anyway.
    if (entry === undefined) {
      this.#db.resetReadTxn();
      entry = this.#db.get(key);
    }
    if (!isEntry(entry)) return null;
    return { status: entry.s, requestId: entry.r, body: entry.b, storedAt: entry.t };
  }

  /** Stores an answer, over any stored before; resolves once the write is committed, so another thread or process then finds it. */
  async put(key: string, answer: { status: number; requestId: string | null; body: unknown }, now = Date.now()): Promise<void> {
    await this.#db.put(key, { t: now, s: answer.status, r: answer.requestId, b: answer.body });
  }

  /**
   * Stores an answer unless `key` has one, and resolves once committed: with null when this one
   * was stored, else with the answer stored first by another thread or process that asked the
   * same request at the same time (two runs sharing a cache; the re-run of a dead thread's item
   * while the dead thread's store was still on its way). Whoever stores second shows the first
   * answer, so the cache never holds an answer no results line shows. The check and the write
   * are one LMDB write transaction, which LMDB serializes across threads and processes.
   */
  async putIfAbsent(key: string, answer: { status: number; requestId: string | null; body: unknown }, now = Date.now()): Promise<CachedAnswer | null> {
    const entry: Entry = { t: now, s: answer.status, r: answer.requestId, b: answer.body };
    const stored = await this.#db.ifNoExists(key, () => {
      void this.#db.put(key, entry);
    });
    // Pruned between the check and this read: nothing to agree with, so this answer stands (unstored).
    return stored ? null : this.get(key);
  }

  stats(): CacheStats {
    const raw = this.#db.getStats() as Record<string, unknown>;
    const count = (name: string): number => {
      const value = raw[name];
      return typeof value === 'number' ? value : 0;
    };
    const entries = count('entryCount');
    const pages = count('treeBranchPageCount') + count('treeLeafPageCount') + count('overflowPages');
    const usedBytes = pages * (count('pageSize') || 4096);
    let fileBytes = 0;
    try {
      fileBytes = statSync(join(this.directory, 'data.mdb')).size;
    } catch {
      // A cache opened but never written has no data file yet on some platforms.
    }
    return { entries, fileBytes, usedBytes, bytesPerEntry: entries === 0 ? null : usedBytes / entries };
  }

  /** Removes entries stored before `cutoff` (epoch ms); resolves with how many were removed. */
  async prune(cutoff: number): Promise<number> {
    let removed = 0;
    for (const { key, value } of this.#db.getRange({})) {
      if (isEntry(value) && value.t < cutoff) {
        void this.#db.remove(key);
        removed += 1;
      }
    }
    await this.#db.committed;
    return removed;
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
