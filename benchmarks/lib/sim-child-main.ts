// The simulator in a process of its own, answering questions about itself over the IPC channel:
// the parent sends 'stats' and gets the simulator's running totals back ('requests': its records). Options come as JSON in
// argv[2]; the URL is the first IPC message. The process ends when the parent disconnects, so a
// benchmark that dies never leaves a simulator behind.
import { startSimulator, type SimOptions } from '../../src/sim/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as SimOptions;
const sim = await startSimulator({ recordRequests: false, ...options });

function send(message: unknown): void {
  process.send?.(message);
}

send({ type: 'ready', url: sim.url });
process.on('message', (message: unknown) => {
  if (message === 'stats') send({ type: 'stats', stats: { ...sim.stats } });
  // Only with `recordRequests: true` in the options (else the list stays empty).
  if (message === 'requests') send({ type: 'requests', requests: sim.requests });
});
process.on('disconnect', () => {
  void sim.close().then(() => process.exit(0));
});
