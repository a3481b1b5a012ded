// Task modules in whole runs: real worker threads load the TypeScript task files.
import { describe, expect, it } from 'vitest';
import type { BatchItem } from '../../src/model/outcome.js';
import { runBatch } from '../../src/run/run-batch.js';
import type { TaskValue } from '../../src/task/task.js';
import { TaskLoadError } from '../../src/model/errors.js';
import type extractTask from '../fixtures/tasks/extract.js';
import { Person } from '../fixtures/tasks/extract.js';
import { useSimulator } from '../helpers/simulator.js';

const task = (name: string) => new URL(`../fixtures/tasks/${name}.ts`, import.meta.url).pathname;
const start = useSimulator();

function record(id: string, text: string): BatchItem {
  return { custom_id: id, record: { custom_id: id, text } };
}

function sentSchema(requestBody: unknown): unknown {
  return (requestBody as { response_format?: { json_schema?: { schema?: unknown } } }).response_format?.json_schema?.schema;
}

describe('task modules', () => {
  it('builds requests from records, sends the schema, validates the answer and post-processes it', async () => {
    const sim = await start();
    const items = [record('a', 'Ada Lovelace, 1815'), record('b', 'Alan Turing, 1912')];
    const { results, summary } = await runBatch<TaskValue<typeof extractTask>>({ items, baseURL: sim.url, task: task('extract'), threads: 2 });
    expect(summary.succeeded).toBe(2);
    for (const result of results) {
      expect(result.ok).toBe(true);
      if (!result.ok) continue;
      // The value is postProcess's result, computed from an answer that satisfied the schema.
      expect(result.value?.customId).toBe(result.custom_id);
      expect(result.value?.label).toMatch(/^.+ \(-?\d+\)$/);
      expect(result.stats.invalidOutputs).toBe(0);
    }
    // The request carried the zod schema as a strict json_schema response format.
    const content = (results[0]?.ok && results[0].body) as { choices: Array<{ message: { content: string } }> };
    expect(Person.safeParse(JSON.parse(content.choices[0]?.message.content ?? 'null')).success).toBe(true);
  });

  it('re-asks after an invalid answer, with the validation error fed back, and then succeeds', async () => {
    const sim = await start({ faults: { scripts: { 'Grace Hopper, 1906': [{ output: 'schema_violation' }] } } });
    const { results } = await runBatch({ items: [record('g', 'Grace Hopper, 1906')], baseURL: sim.url, task: task('extract'), threads: 1 });
    expect(results[0]).toMatchObject({ ok: true, stats: { attempts: 2, invalidOutputs: 1 } });
    // The second request told the model what was wrong.
    const reask = sim.requests[1];
    expect(reask?.key).toMatch(/^Your answer was invalid: the answer does not match the schema/);
  });

  it('fails an item as invalid_output beyond its budget, keeps the last raw answer, and counts the tokens of every attempt', async () => {
    const sim = await start({ completionTokens: 5, invalidJsonRate: 1 });
    const item = { custom_id: 'x', body: { model: 'sim', messages: [{ role: 'user', content: 'q' }] } };
    const { results, summary } = await runBatch({ items: [item], baseURL: sim.url, task: task('schema-only'), threads: 1 });
    const result = results[0];
    expect(result?.ok).toBe(false);
    if (result === undefined || result.ok) return;
    expect(result.error.category).toBe('invalid_output');
    expect(result.error.message).toMatch(/not JSON/);
    expect(result.stats).toMatchObject({ attempts: 3, invalidOutputs: 3 });
    // The last raw answer is kept in the failed result's body.
    const raw = (result.body as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content;
    expect(raw).toBe(sim.requests.length === 3 ? raw : 'unexpected');
    expect(() => JSON.parse(raw ?? '')).toThrow();
    // Three 200 responses with usage, all of them invalid: their tokens still count.
    expect(result.stats.usage.completion).toBe(15);
    expect(summary.tokens.completion).toBe(15);
    expect(summary.by_category).toEqual({ invalid_output: 1 });
  });

  it('fails an item whose task code throws, naming the task, and leaves the thread and other items unharmed', async () => {
    const sim = await start();
    const items: BatchItem[] = [
      { custom_id: 'build-1', record: { fail: 'build' } },
      { custom_id: 'post-1', record: { fail: 'no' } },
      { custom_id: 'fine-1', record: { fail: 'no' } },
      { custom_id: 'fine-2', record: { fail: 'no' } },
    ];
    const { results } = await runBatch({ items, baseURL: sim.url, task: task('throws'), threads: 1 });
    const byId = new Map(results.map((r) => [r.custom_id, r]));
    const build = byId.get('build-1');
    const post = byId.get('post-1');
    expect(build?.ok === false && build.error).toMatchObject({ category: 'task_error', message: 'task throws: buildRequest threw: cannot build this one' });
    expect(post?.ok === false && post.error).toMatchObject({ category: 'task_error', message: 'task throws: postProcess threw: post-processing blew up' });
    expect(byId.get('fine-1')?.ok).toBe(true);
    expect(byId.get('fine-2')?.ok).toBe(true);
    // The item that failed to build never reached the server.
    expect(sim.requests).toHaveLength(3);
  });

  it('refuses a task file that is not a task, or does not load, before running anything', async () => {
    const sim = await start();
    const items = [record('a', 'x')];
    await expect(runBatch({ items, baseURL: sim.url, task: task('not-a-task') })).rejects.toThrow(
      new TaskLoadError('task not-a-task.ts: expected a default export made by defineTask(), got object'),
    );
    await expect(runBatch({ items, baseURL: sim.url, task: task('missing') })).rejects.toThrow(/task missing\.ts could not be loaded/);
    expect(sim.requests).toHaveLength(0);
  });

  it('keeps the value of a stage whose promise had settled when its deadline passed, signal read or not', async () => {
    const items = ['reads-signal', 'does-not'].map((custom_id) => ({ custom_id, body: { messages: [{ role: 'user', content: 'hi' }] } }));
    const { results } = await runBatch({ items, baseURL: 'http://127.0.0.1:9/v1', task: task('settled-late'), threads: 1, itemDeadlineMs: 30 });
    expect(results.map((r) => [r.custom_id, r.ok ? r.value : r.error.category]).sort()).toEqual([
      ['does-not', 'kept'],
      ['reads-signal', 'kept'],
    ]);
  });

  it("fails as task_error, naming the stage, an item whose value's `then` getter throws", async () => {
    const items = ['odd-then', 'fine'].map((custom_id) => ({ custom_id, body: {} }));
    const { results } = await runBatch({ items, baseURL: 'http://127.0.0.1:9/v1', task: task('faulty'), threads: 1 });
    const odd = results.find((r) => r.custom_id === 'odd-then');
    expect(odd?.ok === false && odd.error).toMatchObject({ category: 'task_error', message: 'task faulty: postProcess threw: then is not for reading' });
    expect(results.find((r) => r.custom_id === 'fine')?.ok).toBe(true);
  });

  it('can replace the HTTP call with its own, and fails the item when that throws', async () => {
    const items = [{ custom_id: 'a', body: { messages: [{ role: 'user', content: 'hi' }] } }, { custom_id: 'refused', body: {} }];
    const { results, summary } = await runBatch({ items, baseURL: 'http://127.0.0.1:9/v1', task: task('in-process'), threads: 1 });
    const a = results.find((r) => r.custom_id === 'a');
    expect(a?.ok && a.body).toMatchObject({ choices: [{ message: { content: 'echo [{"role":"user","content":"hi"}]' } }] });
    const refused = results.find((r) => r.custom_id === 'refused');
    expect(refused?.ok === false && refused.error).toMatchObject({ category: 'task_error', message: 'task in-process.ts: call threw: no backend for this one' });
    expect(summary.tokens.total).toBe(6);
  });
});
