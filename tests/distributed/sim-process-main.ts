// The simulator in a process of its own, recording every request: options come as JSON in
// argv[2], the URL is the first IPC message, 'requests' is answered with the records so far.
// The process ends when its parent disconnects (or dies), so a failed test leaves none behind.
import { startSimulator, type SimOptions } from '../../src/sim/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as SimOptions;
const sim = await startSimulator({ ...options, recordRequests: true });
process.send?.({ type: 'ready', url: sim.url });
process.on('message', (message: unknown) => {
  if (message === 'requests') process.send?.({ type: 'requests', requests: sim.requests });
});
process.on('disconnect', () => {
  void sim.close().then(() => process.exit(0));
});
