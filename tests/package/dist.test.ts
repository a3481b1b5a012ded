// The built package, as plain JavaScript on plain Node: worker threads load dist/threads, a
// TypeScript task still loads (through tsx), and item events still cross over Comlink.
// `npm test` builds dist/ before running the tests.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

const script = `
import { runBatch } from './dist/src/index.js';
import { startSimulator } from './dist/src/sim/index.js';
const sim = await startSimulator({ faults: { scripts: { 'first': [429] } }, rateLimitHint: { header: 'retry-after-ms', ms: 50 } });
const events = [];
const items = [{ custom_id: 'a', record: { text: 'first' } }, { custom_id: 'b', record: { text: 'second' } }];
const { summary, results } = await runBatch({ items, baseURL: sim.url, task: 'tests/fixtures/tasks/extract.ts', threads: 2, onEvent: (e) => events.push(e.type) });
await sim.close();
console.log(JSON.stringify({ succeeded: summary.succeeded, events, values: results.map((r) => r.value) }));
`;

describe('the built package', () => {
  it('runs a TypeScript task in worker threads from dist/ on plain Node', async () => {
    expect(existsSync(new URL('../../dist/threads/item-worker.js', import.meta.url)), 'run `npm run build` first').toBe(true);
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 30_000 });
    const out = JSON.parse(stdout) as { succeeded: number; events: string[]; values: Array<{ customId: string; label: string }> };
    expect(out.succeeded).toBe(2);
    expect(out.values.map((v) => v.customId).sort()).toEqual(['a', 'b']);
    expect(out.events).toContain('rate-limited');
    expect(out.events).toContain('cooldown-ended');
  });

  it('loads its index as one bundle, without the packages of distributed runs and the Batch API', async () => {
    // BullMQ, ioredis, zod and the whole openai client took ~300 ms of a program's start-up when
    // the index imported them; they are loaded when a distributed run or a Batch API run starts.
    const hook = `data:text/javascript,${encodeURIComponent("export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/dist/') || r.url.includes('node_modules')) process.stderr.write('loaded ' + r.url + '\\n'); return r; }")}`;
    const probe = `import { register } from 'node:module'; register(${JSON.stringify(hook)}); const lib = await import('batch-llm'); console.log(typeof lib.coordinateBatch, typeof lib.runWorker, typeof lib.runViaBatchApi);`;
    const loaded = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, timeout: 30_000 });
    expect(loaded.stdout.trim()).toBe('function function function');
    const urls = loaded.stderr.split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice('loaded '.length));
    const ours = urls.filter((url) => url.startsWith(`file://${root}dist/`)).map((url) => url.slice(`file://${root}`.length));
    expect(ours).toEqual(['dist/src/index.js', 'dist/src/library/index.js']);
    const packages = new Set(urls.filter((url) => url.includes('/node_modules/')).map((url) => url.slice(url.lastIndexOf('/node_modules/') + '/node_modules/'.length).split('/')[0]));
    for (const heavy of ['bullmq', 'ioredis', 'zod', 'lmdb', 'gpt-tokenizer']) expect(packages, heavy).not.toContain(heavy);
    // openai/error only (the error classes of the request path), not the client.
    expect(urls.filter((url) => url.includes('/node_modules/openai/') && /\/openai\/(index|client)\.m?js$/.test(url))).toEqual([]);
  });

  it('loads a JavaScript task that imports defineTask from batch-llm/task, and that entry alone', async () => {
    // The modules a thread loads for `batch-llm/task`, seen by a resolve hook: the task module and
    // nothing of the rest of the library (each thread loads the task before its first request).
    const hook = `data:text/javascript,${encodeURIComponent("export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/dist/') || r.url.includes('node_modules')) process.stderr.write('loaded ' + r.url + '\\n'); return r; }")}`;
    const probe = `import { register } from 'node:module'; register(${JSON.stringify(hook)}); await import('batch-llm/task');`;
    const loaded = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, timeout: 30_000 });
    const modules = loaded.stderr.split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice('loaded '.length));
    expect(modules.map((url) => url.slice(url.indexOf('/dist/')))).toEqual(['/dist/src/task/task.js']);

    const runTask = `
import { runBatch } from './dist/src/index.js';
import { startSimulator } from './dist/src/sim/index.js';
const sim = await startSimulator({});
const items = [{ custom_id: 'a', record: { text: 'first' } }, { custom_id: 'b', record: { text: 'second' } }];
const { summary, results } = await runBatch({ items, baseURL: sim.url, task: 'tests/fixtures/tasks/from-package.mjs', threads: 2 });
await sim.close();
console.log(JSON.stringify({ succeeded: summary.succeeded, values: results.map((r) => r.value) }));
`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', runTask], { cwd: root, timeout: 30_000 });
    const out = JSON.parse(stdout) as { succeeded: number; values: Array<{ customId: string; length: number }> };
    expect(out.succeeded).toBe(2);
    expect(out.values.map((v) => v.customId).sort()).toEqual(['a', 'b']);
  });
});
