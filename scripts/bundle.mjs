// Bundles the CLI's entry and the worker thread's entry, after tsc has built dist/ (npm run build).
//
// Why: start-up (issue 12, point 4). Node's ES module loader pays per module — resolve, read,
// compile, link — and a one-item run of tsc's build loads 96 of our modules (main thread and
// worker thread). Bundled, it loads 16 files of ours and puts its first request on the
// wire ~40 ms sooner (0.81×; benchmarks/startup.ts, benchmarks/README.md "Fourth pass").
//
// What is bundled: our own TypeScript only. npm packages stay external (`packages: 'external'`):
// several must be loaded from their own files (Piscina starts its worker file by path; lmdb loads
// a native addon; tsx registers a loader), and a task's `batch-llm/task` import keeps meaning the
// package's one dist/src/task/task.js. Code behind a dynamic import() (the distributed engine, the
// response cache, the tokenizer, zod) stays behind it: `splitting` makes those separate chunks.
//
// The bundles replace tsc's output of the two entries in place, so every path stays as it was:
// package.json's bin (dist/src/cli/main.js), the pool's worker file (dist/threads/item-worker.js,
// found from the pool's module as ../../threads/item-worker.js — which is why the chunks live at
// the same depth as src/cli). The library (dist/src/index.js) stays tsc's unbundled output.
import { build } from 'esbuild';

await build({
  entryPoints: { 'src/cli/main': 'src/cli/main.ts', 'threads/item-worker': 'threads/item-worker.ts' },
  outdir: 'dist',
  chunkNames: 'src/chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  // Not `keepNames`: it wraps every function made at run time, each request's closures included,
  // in a naming call (~1 % of a worker's CPU on the HTTP path). Our error classes set `name`
  // themselves, so only a stack trace may show a function renamed where two modules' names clash.
  logLevel: 'warning',
});
