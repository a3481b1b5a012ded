// The requests benchmarks send: chat completions with a fixed shape, so every client (batch-llm
// and the baselines) sends byte-for-byte the same bodies.
import { once } from 'node:events';
import { createWriteStream, writeFileSync } from 'node:fs';
/**
 * A chat request body. A type alias, not an interface, so it is both a batch-llm item body
 * (`Record<string, unknown>`) and the openai client's `ChatCompletionCreateParamsNonStreaming`.
 */
export type ChatBody = {
  model: string;
  max_tokens?: number;
  messages: Array<{ role: 'user'; content: string }>;
  response_format?: { type: 'json_schema'; json_schema: { name: string; strict: boolean; schema: Record<string, unknown> } };
};

export type ChatItem = { custom_id: string; body: ChatBody };

/**
 * `count` chat requests. `promptChars` pads each prompt to that many characters (the simulator
 * counts ceil(chars / 4) + 3 prompt tokens per message), so a request's token cost is known.
 */
export function* chatItems(count: number, maxTokens: number, promptChars = 0): Generator<ChatItem> {
  for (let i = 0; i < count; i += 1) {
    const head = `item ${i}:`;
    const content = promptChars > head.length ? head.padEnd(promptChars, ' lorem ipsum dolor sit amet') : head;
    yield { custom_id: `i${i}`, body: { model: 'sim', max_tokens: maxTokens, messages: [{ role: 'user', content }] } };
  }
}

/** Writes chatItems(count, maxTokens) to `path` as a batch-llm CLI input file (the OpenAI Batch request shape). */
export function writeChatInput(path: string, count: number, maxTokens: number): void {
  writeFileSync(path, [...chatItems(count, maxTokens)].map((item) => `${JSON.stringify({ ...item, method: 'POST', url: '/v1/chat/completions' })}\n`).join(''));
}

/** Token cost the simulator charges a request from chatItems (prompt estimate + max_tokens). */
export function simulatorCost(promptChars: number, maxTokens: number): number {
  return Math.ceil(promptChars / 4) + 3 + maxTokens;
}

/** A canned chat completion, as a task's `call` may return it (no HTTP at all). */
export function cannedCompletion(content = 'ok'): Record<string, unknown> {
  return {
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 0,
    model: 'bench',
    choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content, refusal: null } }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  };
}

/** Writes `lines` short-form CLI input lines (a custom_id and a prompt) to `path`, streaming. */
export async function writeShortFormInput(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i += 1) {
    if (!out.write(`{"custom_id":"item-${i}","prompt":"Classify item ${i} as one of: red, green, blue."}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
