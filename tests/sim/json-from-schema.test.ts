import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JsonSchema } from '../../src/sim/chat-request.js';
import { instanceFromSchema, violateSchema } from '../../src/sim/json-from-schema.js';
import { mulberry32 } from '../../src/sim/prng.js';

type Tree = { value: number; children: Tree[] };
const Tree: z.ZodType<Tree> = z.object({ value: z.int(), children: z.array(z.lazy(() => Tree)) });

const LinkedNode = z.object({
  label: z.string(),
  get next() {
    return LinkedNode.nullable();
  },
});

const Address = z.object({ street: z.string().min(3).max(12), zip: z.string().length(5) }).meta({ id: 'Address' });

const schemas: Record<string, z.ZodType> = {
  flat: z.object({ name: z.string(), age: z.int().min(0).max(120), active: z.boolean(), note: z.null() }),
  numbers: z.object({
    ratio: z.number().gt(0).lt(1),
    negative: z.number().lte(-5),
    step: z.int().multipleOf(5).min(7).max(30),
    cents: z.number().multipleOf(0.25).min(1).max(2),
    big: z.int().min(1_000_000),
  }),
  strings: z.object({
    email: z.email(),
    id: z.uuid(),
    at: z.iso.datetime(),
    day: z.iso.date(),
    site: z.url(),
    ip: z.ipv4(),
    code: z.string().length(4),
    prefixed: z.string().startsWith('inv-'),
    suffixed: z.string().endsWith('.txt'),
    short: z.string().max(3),
  }),
  choices: z.object({
    kind: z.enum(['cat', 'dog']),
    fixed: z.literal('exact'),
    digits: z.literal([1, 2, 3]),
    either: z.union([z.string(), z.number()]),
    tagged: z.discriminatedUnion('type', [
      z.object({ type: z.literal('a'), a: z.string() }),
      z.object({ type: z.literal('b'), b: z.number() }),
    ]),
  }),
  optionals: z.object({
    maybe: z.string().optional(),
    nullable: z.string().nullable(),
    defaulted: z.number().default(3),
  }),
  collections: z.object({
    tags: z.array(z.string()).min(2).max(4),
    pair: z.tuple([z.string(), z.int()]),
    scores: z.record(z.string(), z.number()),
    flags: z.record(z.enum(['x', 'y']), z.boolean()),
    matrix: z.array(z.array(z.number()).length(2)).min(1),
  }),
  references: z.object({ home: Address, work: Address, past: z.array(Address) }),
  recursive: Tree,
  recursiveNullable: LinkedNode,
  intersection: z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() })),
};

function toSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema) as JsonSchema;
}

describe('instanceFromSchema', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`satisfies the zod schema "${name}" for many seeds`, () => {
      const jsonSchema = toSchema(schema);
      for (let seed = 0; seed < 200; seed++) {
        const value = instanceFromSchema(jsonSchema, mulberry32(seed));
        const result = schema.safeParse(JSON.parse(JSON.stringify(value)));
        if (!result.success) throw new Error(`seed ${seed}: ${JSON.stringify(value)}\n${result.error.message}`);
      }
    });
  }

  it('is deterministic for a given generator seed', () => {
    const jsonSchema = toSchema(schemas['strings'] ?? z.never());
    expect(instanceFromSchema(jsonSchema, mulberry32(7))).toEqual(instanceFromSchema(jsonSchema, mulberry32(7)));
    expect(instanceFromSchema(jsonSchema, mulberry32(7))).not.toEqual(instanceFromSchema(jsonSchema, mulberry32(8)));
  });

  it('follows $defs and definitions references', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: { a: { $ref: '#/definitions/Name' } },
      required: ['a'],
      definitions: { Name: { type: 'string', const: 'n' } },
    };
    expect(instanceFromSchema(schema, mulberry32(1))).toEqual({ a: 'n' });
  });
});

describe('violateSchema', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`breaks the zod schema "${name}" while staying JSON`, () => {
      const jsonSchema = toSchema(schema);
      for (let seed = 0; seed < 20; seed++) {
        const broken = violateSchema(instanceFromSchema(jsonSchema, mulberry32(seed)), jsonSchema);
        expect(schema.safeParse(JSON.parse(JSON.stringify(broken))).success).toBe(false);
      }
    });
  }

  it('breaks schemas whose fields are all optional or defaulted', () => {
    const schema = z.object({ a: z.string().optional(), b: z.number().default(1) });
    const jsonSchema = toSchema(schema);
    const broken = violateSchema(instanceFromSchema(jsonSchema, mulberry32(1)), jsonSchema);
    expect(schema.safeParse(broken).success).toBe(false);
  });
});
