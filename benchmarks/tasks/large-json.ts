// A task with large JSON answers: a schema of many entities (the simulator answers json_schema
// requests with a matching instance, ~100 entities, ~15 KB), parsed and zod-validated in the worker,
// then post-processed: entities grouped, ranked and cross-referenced, and the result fingerprinted
// with a few rounds of sha256 — a stand-in for scoring or feature extraction. The schema and the
// post-processing are exported so the baselines do exactly the same work on their one thread.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineTask } from '../../src/task/task.js';

const ENTITIES = Number(process.env['LARGE_JSON_ENTITIES'] ?? 100);
const ROUNDS = Number(process.env['LARGE_JSON_ROUNDS'] ?? 3000);

const entity = z.object({
  id: z.string().min(4),
  name: z.string(),
  kind: z.enum(['person', 'place', 'organization', 'product', 'event']),
  score: z.number().min(0).max(1),
  mentions: z.array(z.number().int().min(0)).min(3),
  related: z.array(z.string()).min(2),
  attributes: z.object({ color: z.string(), size: z.number(), verified: z.boolean() }),
});

export const schema = z.object({
  title: z.string(),
  language: z.enum(['en', 'de', 'fr']),
  entities: z.array(entity).min(ENTITIES),
  summary: z.string(),
});

export type Answer = z.output<typeof schema>;

export function postProcess(answer: Answer): { digest: string; kinds: number; top: string[]; links: number } {
  const byKind = new Map<string, Answer['entities']>();
  for (const e of answer.entities) byKind.set(e.kind, [...(byKind.get(e.kind) ?? []), e]);
  const ranked = [...answer.entities].sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  const names = new Set(answer.entities.map((e) => e.name));
  let links = 0;
  for (const e of answer.entities) for (const r of e.related) if (names.has(r)) links += 1;
  let digest = JSON.stringify({ ranked, kinds: [...byKind.keys()].sort() });
  for (let i = 0; i < ROUNDS; i += 1) digest = createHash('sha256').update(digest).digest('hex');
  return { digest: digest.slice(0, 16), kinds: byKind.size, top: ranked.slice(0, 3).map((e) => e.id), links };
}

export default defineTask({ schema, postProcess });
