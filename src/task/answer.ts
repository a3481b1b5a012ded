// Reading a task's answer out of a chat completion: the message text, parsed as JSON, validated
// against the task's zod schema. Pure functions; the re-ask policy is in item-runner.ts.

import type { z } from 'zod';

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

/** The first choice's finish_reason, or null. */
function finishReason(body: unknown): unknown {
  const choices = (body as { choices?: unknown } | null)?.choices;
  return Array.isArray(choices) ? (choices[0] as { finish_reason?: unknown } | undefined)?.finish_reason ?? null : null;
}

/** The assistant message's text of a chat completion body, or null when there is none. */
export function messageContent(body: unknown): string | null {
  const choices = (body as { choices?: unknown } | null)?.choices;
  const first = Array.isArray(choices) ? (choices[0] as { message?: { content?: unknown } } | undefined) : undefined;
  const content = first?.message?.content;
  return typeof content === 'string' ? content : null;
}

/** Parses and validates the answer in a chat completion body. */
export function checkAnswer(body: unknown, schema: z.ZodType): AnswerCheck {
  const raw = messageContent(body);
  const cutOff = finishReason(body) === 'length';
  if (raw === null) return { ok: false, raw, cutOff, problem: 'the response has no message content' };
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
