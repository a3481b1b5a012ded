// Reading a task's answer out of a response: its text, parsed as JSON, validated against the
// task's zod schema; and how the schema is asked for and a re-ask is written, per endpoint. A
// schema applies to text answers — chat, text completions, the Responses API; an embedding has no
// text to check, so a task with a schema does not run embeddings (schemaEndpointProblem). Pure
// functions; the re-ask policy is in item-runner.ts.

import type { z } from 'zod';
import { ENDPOINT_URLS, type Endpoint } from '../model/endpoint.js';
import { isRecord } from '../model/records.js';

type Zod = (typeof import('zod'))['z'];
let zod: Zod | null = null;

/**
 * Loads zod's runtime (~100 ms of start-up, the largest import of all): only a task with a schema
 * needs it, and such a task module has loaded it already, so a run without one never pays for it.
 * Await it before `checkAnswer` and `responseFormat`.
 */
export async function loadSchemaTools(): Promise<void> {
  zod ??= (await import('zod')).z;
}

function tools(): Zod {
  if (zod === null) throw new Error('batch-llm internal error: loadSchemaTools() was not awaited');
  return zod;
}

export type AnswerCheck =
  | { ok: true; value: unknown }
  | {
      ok: false;
      raw: string | null;
      problem: string;
      /** The model stopped at max_tokens (finish_reason "length"): the answer is cut off, not wrong. */
      cutOff: boolean;
    };

/** Why a task with a schema cannot run an item of `endpoint`, or null when it can. */
export function schemaEndpointProblem(endpoint: Endpoint): string | null {
  if (endpoint !== 'embeddings') return null;
  return `a task with a schema checks the text of answers, and ${ENDPOINT_URLS.embeddings} answers with vectors, not text (leave out the schema; postProcess gets the whole response)`;
}

function firstChoice(body: unknown): Record<string, unknown> | null {
  const choices = isRecord(body) ? body['choices'] : undefined;
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  return isRecord(first) ? first : null;
}

/** The Responses API's output text: every output_text part of its message items, in order; null without any. */
function outputText(body: unknown): string | null {
  const output = isRecord(body) ? body['output'] : undefined;
  if (!Array.isArray(output)) return null;
  let text: string | null = null;
  for (const item of output) {
    const content = isRecord(item) && item['type'] === 'message' ? item['content'] : undefined;
    if (!Array.isArray(content)) continue;
    for (const part of content) {
      if (isRecord(part) && part['type'] === 'output_text' && typeof part['text'] === 'string') text = (text ?? '') + part['text'];
    }
  }
  return text;
}

/** The assistant message's text of a chat completion body, or null when there is none. */
export function messageContent(body: unknown): string | null {
  const message = firstChoice(body)?.['message'];
  const content = isRecord(message) ? message['content'] : undefined;
  return typeof content === 'string' ? content : null;
}

/** The answer's text in a response of `endpoint`, or null when it has none. */
export function answerText(body: unknown, endpoint: Endpoint = 'chat'): string | null {
  switch (endpoint) {
    case 'chat':
      return messageContent(body);
    case 'completions': {
      const text = firstChoice(body)?.['text'];
      return typeof text === 'string' ? text : null;
    }
    case 'responses':
      return outputText(body);
    case 'embeddings':
      return null;
  }
}

/** The answer stopped at its token cap: finish_reason "length", or an incomplete response for max_output_tokens. */
function wasCutOff(body: unknown, endpoint: Endpoint): boolean {
  if (endpoint === 'responses') {
    const details = isRecord(body) ? body['incomplete_details'] : undefined;
    return isRecord(body) && body['status'] === 'incomplete' && isRecord(details) && details['reason'] === 'max_output_tokens';
  }
  return firstChoice(body)?.['finish_reason'] === 'length';
}

/** Parses and validates the answer in a response body of `endpoint`. */
export function checkAnswer(body: unknown, schema: z.ZodType, endpoint: Endpoint = 'chat'): AnswerCheck {
  const raw = answerText(body, endpoint);
  const cutOff = wasCutOff(body, endpoint);
  if (raw === null) return { ok: false, raw, cutOff, problem: endpoint === 'chat' ? 'the response has no message content' : 'the response has no answer text' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    if (cutOff) {
      return { ok: false, raw, cutOff, problem: `the answer was cut off at max_tokens (finish_reason "length") after ${raw.length} characters, so it is not whole JSON` };
    }
    return { ok: false, raw, cutOff, problem: `the answer is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, raw, cutOff, problem: `the answer does not match the schema:\n${tools().prettifyError(parsed.error)}` };
}

/** The JSON Schema sent as `response_format` (zod's export, without the `$schema` marker). */
export function responseFormat(schema: z.ZodType, name: string): Record<string, unknown> {
  const { $schema: _marker, ...jsonSchema } = tools().toJSONSchema(schema) as Record<string, unknown>;
  return { type: 'json_schema', json_schema: { name, strict: true, schema: jsonSchema } };
}

/** The messages of a re-ask that tells the model what was wrong with its last answer. */
export function feedbackMessages(raw: string | null, problem: string): Array<Record<string, unknown>> {
  return [
    { role: 'assistant', content: raw ?? '' },
    { role: 'user', content: `Your answer was invalid: ${problem}\nAnswer again with only JSON that matches the schema.` },
  ];
}

/**
 * The body with the schema asked for in `endpoint`'s own field: chat's `response_format`, the
 * Responses API's `text.format` (its other `text` settings kept). A text completion has no such
 * field in the OpenAI API (servers that constrain its output spell it each their own way, which a
 * task's buildRequest can add); its answer's text is still checked against the schema.
 */
export function askForSchema(body: Record<string, unknown>, endpoint: Endpoint, format: Record<string, unknown>): Record<string, unknown> {
  if (endpoint === 'chat') return { ...body, response_format: format };
  if (endpoint !== 'responses') return body;
  const spec = isRecord(format['json_schema']) ? format['json_schema'] : {};
  const text = isRecord(body['text']) ? body['text'] : {};
  return { ...body, text: { ...text, format: { type: 'json_schema', ...spec } } };
}

/**
 * The body of a re-ask that tells the model what was wrong with its last answer, in `endpoint`'s
 * terms: two more chat messages, two more Responses API input messages (a text input becomes the
 * first one), or for a text completion the answer and the feedback appended to a text prompt (a
 * prompt of tokens or a list of prompts is asked again unchanged).
 */
export function withFeedback(body: Record<string, unknown>, endpoint: Endpoint, raw: string | null, problem: string): Record<string, unknown> {
  const feedback = feedbackMessages(raw, problem);
  switch (endpoint) {
    case 'chat': {
      const messages = Array.isArray(body['messages']) ? (body['messages'] as unknown[]) : [];
      return { ...body, messages: [...messages, ...feedback] };
    }
    case 'responses': {
      const input = body['input'];
      const items: unknown[] = Array.isArray(input) ? input : typeof input === 'string' ? [{ role: 'user', content: input }] : [];
      return { ...body, input: [...items, ...feedback] };
    }
    case 'completions': {
      const prompt = body['prompt'];
      if (typeof prompt !== 'string') return body;
      return { ...body, prompt: `${prompt}${raw ?? ''}\n\n${String(feedback[1]?.['content'] ?? '')}\n` };
    }
    case 'embeddings':
      return body;
  }
}
