// The spend caps of a distributed run are the run's, not each process's: with real processes (a
// redis-server, the simulator in its own process, a coordinator and three workers), the endpoint
// bills at most the cap in all, the run stops resumably when nothing more fits, and the resume
// finishes the rest — each item paid for once over both invocations.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/cli/run-summary.js';
import { readResults, spawnCli, tempDir, writeJsonl, type CliRun } from '../cli/helpers.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startSimProcess, type SimProcess } from './sim-process.js';

const ITEMS = 300;
/** Billed per answer: max_tokens (the simulator would give 1000). */
const ANSWER_TOKENS = 100;
const CAP = 6000;
const CONCURRENCY = 16;

let redis: TestRedis;
let sim: SimProcess;
let dir: string;
let input: string;
let out: string;
const children: { child: { kill(signal: NodeJS.Signals): boolean; exitCode: number | null } }[] = [];

beforeEach(async () => {
  redis = await startRedis();
  sim = await startSimProcess({ latencyMs: 100, completionTokens: 1000 });
  dir = await tempDir();
  const items = Array.from({ length: ITEMS }, (_, i) => ({ custom_id: `item-${i}`, body: { messages: [{ role: 'user', content: `prompt ${i}` }], max_tokens: ANSWER_TOKENS } }));
  input = await writeJsonl(join(dir, 'in.jsonl'), items);
  out = join(dir, 'out.jsonl');
});

afterEach(async () => {
  for (const { child } of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  sim.stop();
  await redis.stop();
});

function coordinator(extra: string[]): Promise<CliRun> {
  const run = spawnCli(['run', input, '-o', out, '--base-url', sim.url, '--model', 'batch-llm-sim', '--redis', redis.url, '--run-id', 'cap', '--no-local-work', '--no-progress', '--chunk-size', '20', ...extra]);
  children.push(run);
  return run.done;
}

function worker(): Promise<CliRun> {
  const run = spawnCli(['worker', '--redis', redis.url, '--run-id', 'cap', '--threads', '1', '--concurrency', String(CONCURRENCY)]);
  children.push(run);
  return run.done;
}

describe('spend caps across processes', () => {
  it('--max-run-tokens is the run\'s: three workers bill at most the cap in all, the run stops resumably, the resume finishes each item once', async () => {
    const summaryPath = join(dir, 'summary.json');
    const workers = [worker(), worker(), worker()];
    const first = await coordinator(['--max-run-tokens', String(CAP), '--summary', summaryPath]);
    expect(first.code, first.stderr).toBe(3);
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as RunSummary;
    expect(summary.stopped?.reason).toMatch(/token cap of 6000 would be crossed/);
    // What the endpoint was paid for: every answered request's tokens (each within its worst case).
    const paid = (await sim.requests()).filter((r) => r.status === 200);
    expect(paid.length).toBe(summary.succeeded);
    expect(summary.tokens.total).toBeLessThanOrEqual(CAP);
    expect(summary.spend_cap).toMatchObject({ max_tokens: CAP, spent_tokens: summary.tokens.total, over_tokens: 0 });
    // It stops when the room left is less than an item, give or take what was in flight when the
    // last items found it full: far from the cap only if a process kept room it did not use.
    const worstCase = ANSWER_TOKENS + 20;
    expect(summary.tokens.total).toBeGreaterThanOrEqual(CAP - CONCURRENCY * worstCase);
    // Every line once: the successes and an `aborted` line for each item that did not run.
    const lines = await readResults(out);
    expect(new Set(lines.map((l) => l.custom_id)).size).toBe(lines.length);
    expect(lines.length + (summary.not_started ?? 0)).toBe(ITEMS);
    await Promise.all(workers);

    // The resume, without a cap, runs the rest: each item answered by exactly one paid request.
    // Workers join once the run is running again (one that finds it done leaves at once).
    const resumed = coordinator(['--resume']);
    const client = redis.client();
    while ((await client.hget('batch-llm:{cap}:meta', 'status')) !== 'running') await new Promise((resolve) => setTimeout(resolve, 20));
    const again = [worker(), worker(), worker()];
    const second = await resumed;
    expect(second.code, second.stderr).toBe(0);
    await Promise.all(again);
    const final = new Map<string, boolean>();
    for (const line of await readResults(out)) final.set(line.custom_id ?? '', line.error === null);
    expect(final.size).toBe(ITEMS);
    expect([...final.values()].every((ok) => ok)).toBe(true);
    const answered = new Map<string, number>();
    for (const record of await sim.requests()) if (record.status === 200) answered.set(record.key, (answered.get(record.key) ?? 0) + 1);
    expect(answered.size).toBe(ITEMS);
    expect([...answered].filter(([, n]) => n !== 1).map(([key, n]) => `${key}: ${n}`)).toEqual([]);
  }, 90_000);
});
