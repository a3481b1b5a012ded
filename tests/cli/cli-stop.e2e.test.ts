// Stopping a large run and finishing it, end to end through the built bin: SIGTERM leaves only the
// items that were read (a line each) and a stop point in the meta file; the summary, `batch-llm
// report` and --resume agree on what was not started; resume pays for no answer twice; `batch-llm
// compact` then writes exactly one line per item, in input order.

import { link, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { cli, notStartedOf, readResults, readRunEnd, shortItems, spawnCli, tempDir, waitForLines, writeJsonl } from './helpers.js';

const ITEMS = 5_000;
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 5, recordRequests: true });
});
afterAll(async () => {
  await sim.close();
});

describe('a stopped large run', () => {
  it('writes only what it read plus a stop point; summary, report and resume agree; no answer is paid twice; compact leaves one line per item', async () => {
    const dir = await tempDir();
    const items = shortItems(ITEMS);
    const input = await writeJsonl(join(dir, 'in.jsonl'), items);
    const out = join(dir, 'out.jsonl');
    const summaryPath = join(dir, 's.json');
    const args = ['run', input, '-o', out, '--base-url', sim.url, '--concurrency', '16', '--no-progress'];
    // --rpm paces the first run (items wait in the pacer, off the wire); it is not part of the fingerprint.
    const first = spawnCli([...args, '--rpm', '1200', '--summary', summaryPath]);
    await waitForLines(out, 20);
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(3);

    const partial = await readResults(out);
    const end = await readRunEnd(out);
    const notStarted = await notStartedOf(out);
    expect(end).toMatchObject({ state: 'stopped', reason: 'interrupted (SIGTERM)', input_lines: ITEMS });
    // Only the items that were read have lines: far fewer than the input, none twice.
    expect(partial.length).toBeLessThan(ITEMS / 10);
    expect(new Set(partial.map((r) => r.custom_id)).size).toBe(partial.length);
    expect(partial.length + notStarted).toBe(ITEMS);
    const aborted = partial.filter((r) => r.error?.code === 'aborted').length;
    expect(aborted).toBeGreaterThan(0);
    expect(partial.filter((r) => r.error === null).length + aborted).toBe(partial.length);

    // The summary counts the same not-started lines, and its latency leaves the aborted items out.
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { total: number; not_started: number; latency_ms: { p50: number } | null };
    expect(summary.not_started).toBe(notStarted);
    expect(summary.total).toBe(partial.length);
    expect(summary.latency_ms?.p50 ?? 0).toBeGreaterThan(0);
    expect(stopped.stderr).toContain(`${notStarted.toLocaleString('en-US')} not started`);
    // So does the report.
    const report = await cli(['report', out]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(`${notStarted.toLocaleString('en-US')} not started (no line here)`);
    expect(report.stdout).not.toMatch(/latency p50 0 ms/);

    const resumed = await cli([...args, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`0 failed and ${aborted} aborted item(s) run again; ${notStarted} not started yet (no line in the file) run now`);
    expect(await readRunEnd(out)).toEqual({ state: 'complete' });
    const all = await readResults(out);
    const successes = all.filter((r) => r.error === null).map((r) => r.custom_id);
    expect(successes).toHaveLength(ITEMS);
    expect(new Set(successes).size).toBe(ITEMS);
    // No id was answered twice: one answered request per item, over both runs.
    const answered = new Map<string, number>();
    for (const record of sim.requests) if (record.status === 200 && !record.clientAborted) answered.set(record.key, (answered.get(record.key) ?? 0) + 1);
    expect(answered.size).toBe(ITEMS);
    expect([...answered.values()].every((n) => n === 1)).toBe(true);
    expect(all.length).toBe(ITEMS + aborted);

    // compact: one line per id, its success, in input order; never over its own input.
    const compacted = join(dir, 'compact.jsonl');
    const compact = await cli(['compact', out, '-o', compacted]);
    expect(compact.code, compact.stderr).toBe(0);
    const lines = await readResults(compacted);
    expect(lines.map((r) => r.custom_id)).toEqual(items.map((item) => item.custom_id));
    expect(lines.every((r) => r.error === null)).toBe(true);
    expect((await readRunEnd(compacted))?.state).toBe('complete');
    const again = await cli(['compact', out, '-o', compacted]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/compact\.jsonl already exists and is not empty; use --overwrite/);
    await link(out, join(dir, 'same.jsonl'));
    for (const target of [out, join(dir, 'same.jsonl')]) {
      const self = await cli(['compact', out, '-o', target, '--overwrite']);
      expect(self.code).toBe(2);
      expect(self.stderr).toMatch(/compacting into it would destroy it/);
    }
    expect(await readResults(out)).toHaveLength(all.length);
  }, 120_000);
});
