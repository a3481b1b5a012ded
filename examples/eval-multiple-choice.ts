// An example eval: each input line is a multiple-choice question with its expected answer
// ({"custom_id", "topic", "question", "choices", "expected"}); the task asks for the letter as JSON
// and scores it against the expected one. Each result line carries "batch_llm"."score" (true or
// false) and, with --group-by, the record's field as "batch_llm"."group"; the summary gives the
// count, the mean (the accuracy) and the mean per group.
//
//   batch-llm run examples/eval-questions.jsonl -o eval-out.jsonl --task examples/eval-multiple-choice.ts --group-by topic
//   batch-llm report eval-out.jsonl -o eval-report.html
//
// On the built-in simulator the letters are drawn at random, so expect an accuracy near 1/4.
import { z } from 'zod';
import { defineTask } from '../src/task/task.js';

const Answer = z.object({ answer: z.enum(['A', 'B', 'C', 'D']) });

export default defineTask({
  name: 'eval-multiple-choice',
  buildRequest: (record) => ({
    messages: [
      { role: 'system', content: 'Answer the multiple-choice question with the letter of the right choice, as JSON.' },
      { role: 'user', content: `${String(record['question'])}\n${JSON.stringify(record['choices'])}` },
    ],
    max_tokens: 16,
  }),
  schema: Answer,
  score: (value, record) => value.answer === record['expected'],
});
