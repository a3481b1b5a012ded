// instant.ts as plain JavaScript, for the built library (framework-overhead.ts by default): a
// .ts task makes each worker thread load tsx and compile it, start-up that is not batch-llm's
// own. Imports the package by its name, so from dist/ (`npm run build` first). The answer is
// benchmarks/lib/workload.ts cannedCompletion(), written out.
import { defineTask } from 'batch-llm/task';

const completion = {
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 0,
  model: 'bench',
  choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'ok', refusal: null } }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
};

export default defineTask({
  call: () => completion,
});
