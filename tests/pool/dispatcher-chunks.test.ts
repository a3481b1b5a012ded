// How the dispatcher cuts a turn's items into Piscina tasks, counted on a real two-thread pool:
// a few items go as one task (split one per thread, a steady-state refill of two or three items
// made a task per item or two), many go as one task per thread.
import { afterEach, describe, expect, it } from 'vitest';
import { createControlBlock } from '../../src/control/control-block.js';
import { Dispatcher } from '../../src/pool/dispatcher.js';
import { createPool, type ItemPool } from '../../src/pool/pool.js';
import { ThreadBalancer } from '../../src/pool/thread-balancer.js';
import { resolveOptions } from '../../src/run/options.js';
import { workerSettings } from '../../src/run/worker-settings.js';
import { chatItems } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();
let pool: ItemPool | undefined;

afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

describe('the dispatcher', () => {
  it('sends a turn of a few items as one task, and a turn of many as one task per thread', async () => {
    const sim = await start();
    const resolved = resolveOptions({ items: [], baseURL: sim.url, threads: 2, concurrency: 32 });
    const block = createControlBlock(32, 12);
    const balancer = new ThreadBalancer();
    pool = createPool({ settings: workerSettings(resolved, block, null, false) }, 2, 32, balancer);
    const dispatcher = new Dispatcher(pool, 2, balancer);

    // Three items handed over in one turn.
    const few = await Promise.all(chatItems(3, 'few').map((item) => dispatcher.run(item)));
    expect(few.every((outcome) => outcome.ok)).toBe(true);
    expect(pool.completed).toBe(1);

    // Twenty in one turn: a chunk for each thread.
    const many = await Promise.all(chatItems(20, 'many').map((item) => dispatcher.run(item)));
    expect(many.every((outcome) => outcome.ok)).toBe(true);
    expect(pool.completed).toBe(3);
    dispatcher.close();
  });
});
