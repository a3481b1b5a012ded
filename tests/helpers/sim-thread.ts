// Test helper: the simulator in its own thread (tests/fixtures/sim-thread.ts), so that a test may
// block the main thread while the server keeps answering.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { SimOptions, SimRequestRecord } from '../../src/sim/index.js';

const entryFile = new URL('./ts-entry.mjs', import.meta.url);
const simFile = new URL('../fixtures/sim-thread.ts', import.meta.url);

export interface SimThread {
  readonly url: string;
  requests(): Promise<SimRequestRecord[]>;
  close(): Promise<void>;
}

export async function startSimThread(options: SimOptions): Promise<SimThread> {
  const worker = new Worker(entryFile, { workerData: { entry: simFile.href, options } });
  const [{ url }] = (await once(worker, 'message')) as [{ url: string }];
  return {
    url,
    async requests() {
      worker.postMessage('requests');
      const [{ requests }] = (await once(worker, 'message')) as [{ requests: SimRequestRecord[] }];
      return requests;
    },
    async close() {
      worker.postMessage('close');
      await once(worker, 'exit');
    },
  };
}
