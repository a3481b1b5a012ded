import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Simulator } from '../../src/sim/index.js';
import { useSimulator } from '../helpers/simulator.js';
import { chat, field } from './http.js';

const start = useSimulator();

const schemas: Record<string, z.ZodType> = {
  sentiment: z.object({ label: z.enum(['positive', 'negative', 'neutral']), confidence: z.number().min(0).max(1) }),
  person: z.object({
    name: z.string().min(1),
    email: z.email(),
    age: z.int().min(18).max(99).optional(),
    tags: z.array(z.string()).max(5),
  }),
  invoice: z.object({
    id: z.uuid(),
    issuedAt: z.iso.datetime(),
    lines: z.array(z.object({ sku: z.string().length(6), qty: z.int().positive(), price: z.number().nonnegative() })).min(1),
    note: z.string().nullable(),
  }),
};

function jsonSchemaFormat(schema: z.ZodType): Record<string, unknown> {
  return { type: 'json_schema', json_schema: { name: 'out', strict: true, schema: z.toJSONSchema(schema) } };
}

async function content(s: Simulator, key: string, responseFormat: Record<string, unknown>): Promise<string> {
  const reply = await chat(s, key, { body: { response_format: responseFormat } });
  expect(reply.status).toBe(200);
  const text = field(reply.json, 'choices', 0, 'message', 'content');
  if (typeof text !== 'string') throw new Error(`no content in ${JSON.stringify(reply.json)}`);
  return text;
}

describe('json_schema answers', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`satisfy the "${name}" zod schema`, async () => {
      const s = await start();
      for (let i = 0; i < 10; i++) {
        const text = await content(s, `${name} item ${i}`, jsonSchemaFormat(schema));
        expect(() => schema.parse(JSON.parse(text))).not.toThrow();
      }
    });
  }

  it('are the same JSON for the same key, and differ between keys', async () => {
    const s = await start();
    const format = jsonSchemaFormat(schemas['invoice'] ?? z.never());
    expect(await content(s, 'k1', format)).toBe(await content(s, 'k1', format));
    expect(await content(s, 'k1', format)).not.toBe(await content(s, 'k2', format));
  });

  it('work with the openai client\'s zod helper end to end', async () => {
    const s = await start();
    const client = new OpenAI({ baseURL: s.url, apiKey: 'test', maxRetries: 0 });
    const Answer = z.object({ verdict: z.enum(['yes', 'no']), reasons: z.array(z.string()), score: z.number().nullable() });
    const completion = await client.chat.completions.parse({
      model: 'm',
      messages: [{ role: 'user', content: 'Is it?' }],
      response_format: zodResponseFormat(Answer, 'answer'),
    });
    expect(Answer.safeParse(completion.choices[0]?.message.parsed).success).toBe(true);
  });
});

describe('json_object answers', () => {
  it('are a JSON object', async () => {
    const s = await start();
    const parsed: unknown = JSON.parse(await content(s, 'k', { type: 'json_object' }));
    expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
  });
});

describe('broken JSON on purpose', () => {
  const schema = schemas['person'] ?? z.never();

  it('invalidJsonRate = 1 answers text that is not JSON', async () => {
    const s = await start({ invalidJsonRate: 1 });
    for (const format of [jsonSchemaFormat(schema), { type: 'json_object' }]) {
      const text = await content(s, 'k', format);
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    }
  });

  it('schemaViolationRate = 1 answers JSON that violates the schema', async () => {
    const s = await start({ schemaViolationRate: 1 });
    for (let i = 0; i < 5; i++) {
      const parsed: unknown = JSON.parse(await content(s, `k${i}`, jsonSchemaFormat(schema)));
      expect(schema.safeParse(parsed).success).toBe(false);
    }
    expect(Array.isArray(JSON.parse(await content(s, 'k', { type: 'json_object' })))).toBe(true);
  });

  it('leaves plain text requests alone', async () => {
    const s = await start({ invalidJsonRate: 1, schemaViolationRate: 1 });
    const reply = await chat(s, 'plain');
    expect(field(reply.json, 'choices', 0, 'message', 'content')).toMatch(/^[a-z ]+$/);
  });

  it('partial rates break some answers and a re-ask can succeed', async () => {
    const s = await start({ invalidJsonRate: 0.5, seed: 5 });
    const outcomes: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      const text = await content(s, 'same key', jsonSchemaFormat(schema));
      outcomes.push(schema.safeParse(JSON.parse(text.startsWith('{') ? text : '"broken"')).success);
    }
    expect(outcomes).toContain(true);
    expect(outcomes).toContain(false);
    // The record says which answers were broken on purpose.
    expect(s.requests.map((r) => r.content === 'json')).toEqual(outcomes);
  });

  it('scripts can ask for a broken answer on a given attempt', async () => {
    const s = await start({ faults: { scripts: { k: [{ output: 'invalid_json' }, { output: 'schema_violation' }] } } });
    const format = jsonSchemaFormat(schema);
    const first = await content(s, 'k', format);
    const second = await content(s, 'k', format);
    const third = await content(s, 'k', format);
    expect(() => JSON.parse(first) as unknown).toThrow(SyntaxError);
    expect(schema.safeParse(JSON.parse(second)).success).toBe(false);
    expect(schema.safeParse(JSON.parse(third)).success).toBe(true);
    expect(s.requests.map((r) => r.content)).toEqual(['invalid_json', 'schema_violation', 'json']);
  });
});
