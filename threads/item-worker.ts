// Worker thread entry. Piscina awaits a promised default export, so the task module is loaded
// once, before the first item (src/pool/worker-main.ts); a thread started before its run's
// settings waits here for them (src/pool/settings-channel.ts).
import { workerData } from 'node:worker_threads';
import { settingsOf, type ThreadStart } from '../src/pool/settings-channel.js';
import { startWorker } from '../src/pool/worker-main.js';

export default settingsOf(workerData as ThreadStart).then(startWorker);
