// The simulator in a process of its own, so a benchmark's client and server do not share an
// event loop. Options come as JSON in argv[2]; the URL is printed as one JSON line on stdout; the
// process exits when its stdin closes (i.e. when the benchmark that spawned it ends).
import { startSimulator, type SimOptions } from '../../src/sim/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as SimOptions;
const sim = await startSimulator({ recordRequests: false, ...options });
process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void sim.close().then(() => process.exit(0));
});
