// Bundles the CLI's entry, the worker thread's entry and the library's entry (the package's
// index), after tsc has built dist/ (npm run build).
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
// The bundles replace tsc's output of the entries in place, so every path stays as it was:
// package.json's bin (dist/src/cli/main.js) and exports (dist/src/index.js, with tsc's .d.ts
// beside it), the pool's worker file (dist/threads/item-worker.js, found from the pool's module
// as ../../threads/item-worker.js — which is why the chunks live at the same depth as src/cli).
// Bundled, `import 'batch-llm'` loads in ~30–60 ms instead of ~110–160 ms for tsc's ~180 modules
// (benchmarks/README.md, "Eighth pass"). The subpaths batch-llm/task and batch-llm/sim stay tsc's
// output.
import { rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const common = {
  outdir: 'dist',
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
};

await build({
  ...common,
  entryPoints: { 'src/cli/main': 'src/cli/main.ts', 'threads/item-worker': 'threads/item-worker.ts' },
  chunkNames: 'src/chunks/[name]-[hash]',
});

// The library on its own: one entry and its chunks, apart from the CLI's so that neither build
// splits the other's files into more chunks (a third entry in the CLI's build made a one-item run
// load 21 files instead of 19). Its pool starts the worker bundle above, found as
// ../../threads/item-worker.js from the pool's code: so the bundle and its chunks sit at the
// chunks' depth too (dist/src/library/), and the package's index, dist/src/index.js, re-exports it.
await build({
  ...common,
  entryPoints: { 'src/library/index': 'src/index.ts' },
  chunkNames: 'src/library/chunks-[hash]',
});
await writeFile('dist/src/index.js', "// The library's bundle (scripts/bundle.mjs); types: index.d.ts, tsc's.\nexport * from './library/index.js';\n");
await rm('dist/src/index.js.map', { force: true });
