// A task with real CPU work after each answer: validate the answer, then analyse text seeded by it
// (tasks/text-work.ts: tokenizing, counting and scoring in plain JavaScript, a fixed amount of
// work — about 5 ms per item on the benchmark machine at the default 200 rounds — not a sleep),
// as a stand-in for heavy parsing, scoring or feature extraction. CPU_TASK_ROUNDS sets the rounds
// (~24 µs each there).
import { z } from 'zod';
import { defineTask } from '../../src/task/task.js';
import { analyseText } from './text-work.js';

const ROUNDS = Number(process.env['CPU_TASK_ROUNDS'] ?? 200);

export default defineTask({
  schema: z.object({ title: z.string(), score: z.number(), tags: z.array(z.string()) }),
  postProcess: (answer) => ({ ...analyseText(JSON.stringify(answer), ROUNDS), tags: answer.tags.length }),
});
