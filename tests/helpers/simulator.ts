// Test helper: a simulator per test, started on port 0 and always closed afterwards.
import { afterEach } from 'vitest';
import { startSimulator, type SimOptions, type Simulator } from '../../src/sim/index.js';

/** Call at the top of a test file; the returned `start` replaces (and closes) the previous simulator. */
export function useSimulator(): (options?: SimOptions) => Promise<Simulator> {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });
  return async (options = {}) => {
    await sim?.close();
    sim = await startSimulator(options);
    return sim;
  };
}
