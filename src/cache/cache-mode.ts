// The cache modes, apart from the store so that reading options does not load LMDB's native code.

/**
 * `read-write`: answer from the cache when it can, store every new answer. `read-only`: answer
 * from it, store nothing. `refresh`: ask every request again and overwrite what was stored.
 */
export type CacheMode = 'read-write' | 'read-only' | 'refresh';
export const CACHE_MODES: readonly CacheMode[] = ['read-write', 'read-only', 'refresh'];
