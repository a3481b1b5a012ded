// `batch-llm cache stats DIR` and `batch-llm cache prune DIR --older-than 30d`: what a response
// cache (cache/response-cache.ts) holds, and dropping answers stored too long ago.

import type { Command } from 'commander';
import { UsageError } from '../model/errors.js';

const DAY_MS = 86_400_000;

/** `30d`, `12h`, `90m`: an age in ms. Days are what cache ages are usually counted in. */
export function parseAge(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(d|h|m)$/.exec(text.trim());
  if (match === null) throw new UsageError(`${flag}: expected an age such as 30d, 12h or 90m, got ${JSON.stringify(text)}`);
  const unit = match[2] === 'd' ? DAY_MS : match[2] === 'h' ? 3_600_000 : 60_000;
  return Number(match[1]) * unit;
}

/** LMDB's native code loads only for the cache commands, not with every start of the CLI. */
async function openCache(dir: string) {
  const { ResponseCache } = await import('../cache/response-cache.js');
  return new ResponseCache(dir);
}

export function declareCacheCommand(program: Command, out: NodeJS.WritableStream): Command {
  const cache = program.command('cache').description('inspect or prune a response cache directory (--cache)');
  cache
    .command('stats')
    .argument('<dir>', 'the cache directory')
    .description('entries, bytes on disk and bytes per entry, as JSON')
    .action(async (dir: string) => {
      const store = await openCache(dir);
      try {
        out.write(`${JSON.stringify({ directory: store.directory, ...store.stats() })}\n`);
      } finally {
        await store.close();
      }
    });
  cache
    .command('prune')
    .argument('<dir>', 'the cache directory')
    .requiredOption('--older-than <age>', 'remove answers stored longer ago than this: 30d, 12h, 90m')
    .description('remove old answers (the file keeps its size; LMDB reuses the freed pages)')
    .action(async (dir: string, options: { olderThan: string }) => {
      const age = parseAge('--older-than', options.olderThan);
      const store = await openCache(dir);
      try {
        const removed = await store.prune(Date.now() - age);
        out.write(`${JSON.stringify({ directory: store.directory, removed, ...store.stats() })}\n`);
      } finally {
        await store.close();
      }
    });
  return cache;
}
