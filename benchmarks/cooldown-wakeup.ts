// How fast every waiting thread resumes when the main thread ends a cooldown.
// Real worker threads, each with many async waiters at the gate; the real CooldownKeeper ends
// each cooldown from its timer. Prints one JSON object.
//
//   npx tsx benchmarks/cooldown-wakeup.ts [--quick] [--threads 2,4,8] [--waiters 64] [--rounds 50]
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createControlBlock, I32 } from '../src/control/control-block.js';
import { reportRateLimit } from '../src/control/cooldown.js';
import { CooldownKeeper } from '../src/control/cooldown-keeper.js';
import { log, printResult } from './lib/report.js';
import { summarize } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2,4,8' },
    waiters: { type: 'string', default: '64' },
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const threadCounts = values.threads.split(',').map(Number);
const waiters = Number(values.waiters);
const rounds = Number(values.rounds ?? (quick ? 20 : 50));
const now = () => performance.timeOrigin + performance.now();
const entry = new URL('../tests/helpers/ts-entry.mjs', import.meta.url);
const waiterModule = new URL('./lib/wake-waiters.ts', import.meta.url).href;

async function measure(threads: number) {
  const block = createControlBlock(threads * waiters);
  const results = new SharedArrayBuffer(8 * threads * waiters);
  const resumedAt = new Float64Array(results);
  const workers = Array.from(
    { length: threads },
    (_, t) => new Worker(entry, { workerData: { entry: waiterModule, control: block.buffer, results, offset: t * waiters, waiters } }),
  );
  await Promise.all(workers.map((w) => once(w, 'message')));

  let endedAt = 0;
  const keeper = new CooldownKeeper(block, {
    rampStart: 1,
    onEvent: (event) => {
      // The event's `at` is whole ms (Date.now, the clock of cooldown ends); a wake-up needs sub-ms.
      // The keeper calls onEvent synchronously right after it opened the gate, so this is a few µs late.
      if (event.type === 'cooldown-ended') endedAt = now();
    },
  });
  const delays: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const gen = Atomics.load(block.i32, I32.GEN);
    reportRateLimit(block, gen, 20, { baseMs: 20, maxMs: 20 }, Date.now());
    const resumed = workers.map((w) => once(w, 'message'));
    for (const w of workers) w.postMessage('wait');
    await Promise.all(resumed);
    // Measured from the moment the keeper ended the cooldown (taken just after it opened the gate).
    for (const at of resumedAt) delays.push(at - endedAt);
  }
  await keeper.stop();
  await Promise.all(workers.map((w) => w.terminate()));
  return { threads, waiters_per_thread: waiters, rounds, wake_ms: summarize(delays) };
}

const rows = [];
for (const threads of threadCounts) {
  const row = await measure(threads);
  log(`cooldown-wakeup ${threads} threads × ${waiters} waiters: p50 ${row.wake_ms.p50} ms, p99 ${row.wake_ms.p99} ms`);
  rows.push(row);
}
printResult('cooldown-wakeup', quick ? 'quick' : 'full', {
  target: 'p99 <= 1 ms',
  rows,
});
