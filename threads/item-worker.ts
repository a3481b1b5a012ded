// Worker thread entry: wires workerData to the attempt loop in src/item-runner.ts, run over chunks
// of items (src/chunk-runner.ts). Piscina awaits a promised default export, so the task module is
// loaded once, before the first item.
import { workerData } from 'node:worker_threads';
import { createChunkRunner } from '../src/pool/chunk-runner.js';
import { createItemRunner, type WorkerSettings } from '../src/attempt/item-runner.js';

export default createItemRunner(workerData as WorkerSettings).then(createChunkRunner);
