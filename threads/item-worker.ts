// Worker thread entry. Piscina awaits a promised default export, so the task module is loaded
// once, before the first item (src/pool/worker-main.ts).
import { workerData } from 'node:worker_threads';
import { startWorker } from '../src/pool/worker-main.js';

export default startWorker(workerData);
