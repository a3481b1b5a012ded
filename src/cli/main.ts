#!/usr/bin/env node
// The batch-llm command's entry, thin on purpose: a `run`'s worker threads take ~100–200 ms to
// boot, so when the command line alone says which pool the run needs they are started first
// (early-threads.ts) and boot while the rest of the CLI loads (program.ts).

import { startEarlyThreads } from './early-threads.js';

const earlyThreads = startEarlyThreads(process.argv);
const { runProgram } = await import('./program.js');
await runProgram(process.argv, earlyThreads);
