// Spend caps through the built CLI: a cap is a promise about the bill. Each item reserves its
// worst case (prompt + max_tokens, priced) before it starts, so no number of items on the wire at
// once can take the run past the cap; the summary says what was spent and by how much it went over.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/cli/run-summary.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { cli, readResults, ROOT, shortItems, tempDir, writeJsonl } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  // Every answer bills 1000 completion tokens unless the request's max_tokens is lower.
  sim = await startSimulator({ latencyMs: 50, completionTokens: 1000, recordRequests: false });
}, 60_000);
afterAll(async () => {
  await sim.close();
});

async function capped(items: unknown[], extra: string[]): Promise<{ code: number | null; summary: RunSummary; stderr: string; lines: number }> {
  const dir = await tempDir();
  const input = await writeJsonl(join(dir, 'in.jsonl'), items);
  const out = join(dir, 'out.jsonl');
  const summaryPath = join(dir, 's.json');
  const run = await cli(['run', input, '-o', out, '--base-url', sim.url, '--no-progress', '--summary', summaryPath, ...extra]);
  const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as RunSummary;
  return { code: run.code, summary, stderr: run.stderr, lines: (await readResults(out)).length };
}

describe('spend caps', () => {
  it('keeps 300 items started at once within --max-run-tokens when answers have no max_tokens', async () => {
    const { code, summary, stderr, lines } = await capped(shortItems(300), ['--concurrency', '300', '--max-run-tokens', '3000']);
    expect(code).toBe(3);
    expect(summary.tokens.total).toBeGreaterThan(1000);
    expect(summary.tokens.total).toBeLessThanOrEqual(3000);
    expect(summary.stopped?.reason).toMatch(/token cap of 3000 would be crossed/);
    expect(summary.spend_cap).toMatchObject({ max_tokens: 3000, spent_tokens: summary.tokens.total, over_tokens: 0 });
    expect(stderr).toMatch(/spend cap: [\d,]+ of 3,000 tokens \(within the cap\)/);
    expect(lines + (summary.not_started ?? NaN)).toBe(300);
  });

  it('keeps --max-tokens as a deprecated alias of --max-run-tokens, and says so in --help', async () => {
    const { code, summary } = await capped(shortItems(20), ['--max-tokens', '2500']);
    expect(code).toBe(3);
    expect(summary.spend_cap).toMatchObject({ max_tokens: 2500, over_tokens: 0 });
    const both = await cli(['run', 'in.jsonl', '-o', 'out.jsonl', '--max-tokens', '1', '--max-run-tokens', '1']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--max-tokens is the old name of --max-run-tokens: give one/);
    const help = (await cli(['run', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--max-tokens <n> deprecated alias of --max-run-tokens \(not the request field max_tokens\)/);
  });

  it('reserves prompt + max_tokens, priced, against --max-cost', async () => {
    const items = shortItems(200).map((item) => ({ custom_id: item.custom_id, body: { messages: [{ role: 'user', content: item.prompt }], max_tokens: 100 } }));
    // 1 per million prompt tokens, 10 per million completion: an item costs at most ~0.001.
    const { code, summary } = await capped(items, ['--concurrency', '200', '--max-cost', '0.02', '--price-input', '1', '--price-output', '10']);
    expect(code).toBe(3);
    expect(summary.cost ?? Infinity).toBeLessThanOrEqual(0.02);
    expect(summary.succeeded).toBeGreaterThanOrEqual(15);
    expect(summary.spend_cap).toMatchObject({ max_cost: 0.02, over_cost: 0 });
  });

  it('sends the short form with its max_tokens, and refuses "stream": true and unknown keys as invalid_input', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), [
      { custom_id: 'capped', prompt: 'hi', max_tokens: 8 },
      { custom_id: 'streamed', prompt: 'hi', stream: true },
      { custom_id: 'typo', prompt: 'hi', max_token: 8 },
    ]);
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, '--base-url', sim.url, '--no-progress']);
    expect(run.code).toBe(1);
    const byId = new Map((await readResults(out)).map((r) => [r.custom_id, r]));
    expect(byId.get('capped')).toMatchObject({ error: null, batch_llm: { usage: { completion: 8 } } });
    expect(byId.get('streamed')?.error).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/:2: "stream": true is not supported/) });
    expect(byId.get('typo')?.error).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/:3: unknown field "max_token"/) });
  });

  it('says an answer was cut off at max_tokens, keeps that 200 on the invalid_output line, and a task may re-ask with more tokens', async () => {
    const dir = await tempDir();
    const body = { messages: [{ role: 'user', content: 'json please' }], max_tokens: 200, response_format: { type: 'json_object' } };
    const input = await writeJsonl(join(dir, 'in.jsonl'), [{ custom_id: 'short', body }]);
    const task = (name: string) => join(ROOT, 'tests/fixtures/tasks', `${name}.ts`);

    const kept = join(dir, 'kept.jsonl');
    expect((await cli(['run', input, '-o', kept, '--base-url', sim.url, '--no-progress', '--task', task('schema-only')])).code).toBe(1);
    const [failed] = await readResults(kept);
    expect(failed?.error).toMatchObject({ code: 'invalid_output', message: expect.stringMatching(/cut off at max_tokens \(finish_reason "length"\)/) });
    expect(failed?.response).toMatchObject({ status_code: 200, body: { choices: [{ finish_reason: 'length' }] } });
    expect(failed?.batch_llm.cut_off).toBe(3);

    const grown = join(dir, 'grown.jsonl');
    const run = await cli(['run', input, '-o', grown, '--base-url', sim.url, '--no-progress', '--task', task('grow-on-cut-off')]);
    expect(run.code, run.stderr).toBe(0);
    const [ok] = await readResults(grown);
    expect(ok).toMatchObject({ error: null, batch_llm: { cut_off: 1, invalid_outputs: 1, value: { answer: expect.any(String) } } });
    // Two CLI runs whose worker threads load a TypeScript task: slow on a loaded machine.
  }, 90_000);
});
