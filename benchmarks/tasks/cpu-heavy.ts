// A task with real CPU work after each answer: validate the answer, then hash it `rounds` times
// (a fixed amount of work, a few ms per item, not a sleep), as a stand-in for heavy parsing,
// scoring or feature extraction.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineTask } from '../../src/task/task.js';

const ROUNDS = Number(process.env['CPU_TASK_ROUNDS'] ?? 6000);

export default defineTask({
  schema: z.object({ title: z.string(), score: z.number(), tags: z.array(z.string()) }),
  postProcess: (answer) => {
    let digest = JSON.stringify(answer);
    for (let i = 0; i < ROUNDS; i += 1) digest = createHash('sha256').update(digest).digest('hex');
    return { digest: digest.slice(0, 16), tags: answer.tags.length };
  },
});
