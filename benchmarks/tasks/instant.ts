// A task whose `call` answers in-process with a canned chat completion: no HTTP, no latency, so a
// run measures batch-llm's own cost per item (scheduling, dispatch into the pool, the attempt loop,
// results back to the main thread).
import { defineTask } from '../../src/task/task.js';
import { cannedCompletion } from '../lib/workload.js';

const completion = cannedCompletion();

export default defineTask({
  call: () => completion,
});
