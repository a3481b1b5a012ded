// Scale-out across processes and machines, on BullMQ and Redis: a coordinator (coordinator.ts)
// enqueues chunk jobs and collects final outcomes; workers (run-worker.ts) run them through one
// engine each; the run-wide cooldown and budgets live in Redis and change only through the Lua
// scripts of scripts.ts, mirrored into each process's control block by cooldown-mirror.ts.
// Floor 5.5: it may import run/ and everything below it (control/, model/ …), never cli/ or sim/;
// the CLI (floor 6) and the package's index use it.

export { coordinateBatch, DEFAULT_CHUNK_SIZE, type CoordinatorOptions } from './coordinator.js';
export { runWorker, type WorkerOptions, type WorkerReport } from './run-worker.js';
