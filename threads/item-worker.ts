// Worker thread entry: wires workerData to the attempt loop in src/item-runner.ts.
import { workerData } from 'node:worker_threads';
import { createItemRunner, type WorkerSettings } from '../src/item-runner.js';

export default createItemRunner(workerData as WorkerSettings);
