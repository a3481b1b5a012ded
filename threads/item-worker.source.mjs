// Worker entry when batch-llm runs from its TypeScript source (tests, benchmarks, `tsx`): register
// tsx's loader in this thread, then load the real entry. Passing `--import tsx` in the pool's
// execArgv is not enough on Node 20: the loader registers asynchronously and can lose the race
// with Piscina's import of the worker file. The built package uses item-worker.js directly.
import { register } from 'tsx/esm/api';

register();
const { default: runner } = await import('./item-worker.ts');
export default runner;
