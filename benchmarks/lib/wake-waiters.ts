// A benchmark thread: `waiters` async waiters sit at the cooldown gate (waitUntilOpen); each time
// the gate opens they record, in a shared Float64Array, how long after `now()` they resumed.
import { parentPort, workerData } from 'node:worker_threads';
import { attachControlBlock } from '../../src/control/control-block.js';
import { waitUntilOpen } from '../../src/control/cooldown.js';

const { control, results, offset, waiters } = workerData as {
  control: SharedArrayBuffer;
  results: SharedArrayBuffer;
  offset: number;
  waiters: number;
};
const block = attachControlBlock(control);
const resumedAt = new Float64Array(results);
const now = () => performance.timeOrigin + performance.now();

parentPort?.on('message', async () => {
  await Promise.all(
    Array.from({ length: waiters }, async (_, i) => {
      await waitUntilOpen(block);
      resumedAt[offset + i] = now();
    }),
  );
  parentPort?.postMessage('resumed');
});
parentPort?.postMessage('ready');
