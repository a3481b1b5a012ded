// The trace of scripted runs against the simulator (real threads, real HTTP): one burst, a stale
// 429, an extension, and three cascading waves each leave exactly their events in the trace file,
// with the right generations, in the order the protocol guarantees.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceLine } from '../../src/trace/trace-file.js';
import { runBatch } from '../../src/run/run-batch.js';
import type { BatchOptions } from '../../src/run/options.js';
import { chatItem, chatItems, expectEachSucceededOnce } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

const start = useSimulator();
const KEY = 'sk-trace-test-secret-0123456789';
const SLOW_MS = 60_000;

async function tracedRun(options: BatchOptions): Promise<TraceLine[]> {
  const path = join(tempDir('batch-llm-trace-'), 'trace.jsonl');
  const { results } = await runBatch({ ...options, apiKey: KEY, trace: path, sampleIntervalMs: 50 });
  expectEachSucceededOnce([...(options.items as Iterable<{ custom_id: string }>)].map((i) => ({ custom_id: i.custom_id })), results);
  const text = readFileSync(path, 'utf8');
  expect(text).not.toContain(KEY);
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as TraceLine);
  // One event a line, stamped on a monotonic clock: `t` never goes back.
  lines.forEach((line, i) => expect(line.t).toBeGreaterThanOrEqual(lines[i - 1]?.t ?? 0));
  expect(lines[0]?.type).toBe('run-started');
  expect(lines.at(-1)?.type).toBe('sample');
  return lines;
}

/** A cooldown event as a short sentence; joined and extended are one when timing picks between them. */
function sentence(line: TraceLine, joinedOrExtended: boolean): string | null {
  switch (line.type) {
    case 'rate-limited': {
      const report = joinedOrExtended && (line.report === 'joined' || line.report === 'extended') ? 'joined/extended' : line.report;
      return `429 ${report} sent in ${line.sentGen} -> ${line.gen}`;
    }
    case 'cooldown-opened':
      return `cooldown ${line.gen} opened`;
    case 'ceiling-changed':
      return `ceiling ${line.from} -> ${line.to}`;
    case 'limit-raised':
      return `limit ${line.limit}`;
    default:
      return null;
  }
}

/**
 * The cooldown story, cut at each cooldown's end. The protocol orders the segments (every 429 of
 * a burst is reported before its cooldown ends, a stale one after); within a segment, events of
 * different threads arrive in any order, so each segment is sorted.
 */
function story(lines: readonly TraceLine[], joinedOrExtended = false): string[][] {
  const segments: string[][] = [[]];
  for (const line of lines) {
    if (line.type === 'cooldown-ended') {
      segments.push([`cooldown ${line.gen} ended`], []);
      continue;
    }
    const said = sentence(line, joinedOrExtended);
    if (said !== null) segments.at(-1)?.push(said);
  }
  return segments.map((segment) => segment.sort());
}

/** The ramp after a cooldown: each success raises the limit by one, from its start to the ceiling. */
function ramp(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `limit ${from + 1 + i}`).sort();
}

function ofType<T extends TraceLine['type']>(lines: readonly TraceLine[], type: T): Array<Extract<TraceLine, { type: T }>> {
  return lines.filter((line): line is Extract<TraceLine, { type: T }> => line.type === type);
}

describe('the trace file', () => {
  it('records one burst: one 429 opens the cooldown with its hint and source, the rest join it, the keeper ends it', async () => {
    const sim = await start({ latencyMs: 10, faults: { storms: [{ holdUntilInFlight: 16, hint: { header: 'retry-after-ms', ms: 150 } }] } });
    const lines = await tracedRun({ items: chatItems(24), baseURL: sim.url, concurrency: 16, threads: 2, rampJitterMs: 5 });

    expect(story(lines, true)).toEqual([
      ['429 opened sent in 0 -> 1', 'cooldown 1 opened', ...Array<string>(15).fill('429 joined/extended sent in 0 -> 1')].sort(),
      ['cooldown 1 ended'],
      // The ramp starts at ceil(16 / 8) = 2 and climbs back to 16.
      ramp(2, 16),
    ]);
    const [opener] = ofType(lines, 'rate-limited').filter((e) => e.report === 'opened');
    expect(opener).toMatchObject({ hintMs: 150, hintSource: 'retry-after-ms', endBefore: null });
    expect(typeof opener?.thread).toBe('number');
    const [ended] = ofType(lines, 'cooldown-ended');
    expect(ended).toMatchObject({ gen: 1, by: 'keeper', waiting: 16 });
    expect(ended?.durationMs).toBeGreaterThanOrEqual(140);
    expect(ofType(lines, 'run-started')[0]?.settings).toMatchObject({ concurrency: 16, threads: 2, baseURL: sim.url.endsWith('/') ? sim.url : `${sim.url}` });
  }, SLOW_MS);

  it('records a stale 429 with the generation it was sent in and the later one it came back to', async () => {
    const sim = await start({
      faults: {
        scripts: {
          fast: [{ status: 429, delayMs: 60, hint: { header: 'retry-after-ms', ms: 60 } }],
          slow: [{ status: 429, delayMs: 300, hint: { header: 'retry-after-ms', ms: 60 } }],
        },
      },
    });
    const lines = await tracedRun({ items: [chatItem('fast'), chatItem('slow')], baseURL: sim.url, concurrency: 2, threads: 1 });
    expect(story(lines)).toEqual([
      ['429 opened sent in 0 -> 1', 'cooldown 1 opened'],
      ['cooldown 1 ended'],
      ['429 stale sent in 0 -> 2', ...ramp(1, 2)].sort(),
    ]);
    const stale = ofType(lines, 'rate-limited').find((e) => e.report === 'stale');
    expect(stale).toMatchObject({ custom_id: 'slow', sentGen: 0, gen: 2, endAfter: null });
  }, SLOW_MS);

  it('records an extension from the old end to the new one, and a shorter hint that only joins', async () => {
    const rl = (delayMs: number, ms: number) => ({ status: 429, delayMs, hint: { header: 'retry-after-ms' as const, ms } });
    const sim = await start({ faults: { scripts: { opener: [rl(20, 200)], longer: [rl(60, 400)], shorter: [rl(100, 10)] } } });
    const lines = await tracedRun({
      items: [chatItem('opener'), chatItem('longer'), chatItem('shorter')],
      baseURL: sim.url,
      concurrency: 3,
      threads: 1,
      rampJitterMs: 0,
    });
    expect(story(lines)).toEqual([
      ['429 extended sent in 0 -> 1', '429 joined sent in 0 -> 1', '429 opened sent in 0 -> 1', 'cooldown 1 opened'],
      ['cooldown 1 ended'],
      ramp(1, 3),
    ]);
    const reports = ofType(lines, 'rate-limited');
    const opener = reports.find((e) => e.custom_id === 'opener');
    const longer = reports.find((e) => e.custom_id === 'longer');
    const shorter = reports.find((e) => e.custom_id === 'shorter');
    expect(longer?.report).toBe('extended');
    // Old end -> new end: the opener's end, moved out by the longer hint (~40 ms later, 200 ms longer).
    expect(longer?.endBefore).toBe(opener?.endAfter);
    expect((longer?.endAfter ?? 0) - (longer?.endBefore ?? 0)).toBeGreaterThanOrEqual(200);
    expect(shorter).toMatchObject({ report: 'joined', hintMs: 10 });
    expect(shorter?.endAfter).toBe(longer?.endAfter);
    const [ended] = ofType(lines, 'cooldown-ended');
    expect(ended).toMatchObject({ gen: 1, waiting: 3 });
    expect(ended?.at).toBeGreaterThanOrEqual(longer?.endAfter ?? Infinity);
  }, SLOW_MS);

  it('records three cascading waves, the AIMD ceiling halving twice, and the climb back', async () => {
    const hint = { header: 'retry-after-ms' as const, ms: 60 };
    const sim = await start({
      latencyMs: 5,
      faults: { storms: [{ holdUntilInFlight: 8, hint }, { holdUntilInFlight: 4, hint }, { holdUntilInFlight: 4, hint }] },
    });
    // One thread keeps the story in one order. (With two, a waiting attempt on the other thread
    // could once take the permit of a 429'd attempt before its 429 was reported and go out in
    // the old generation; attempts now report first — attempt/item-runner.ts — and
    // tests/run/cooldown-repeats.test.ts checks that across four threads.)
    const lines = await tracedRun({ items: chatItems(20), baseURL: sim.url, concurrency: 8, threads: 1, rampStart: 4, rampJitterMs: 5 });
    const burst = (sent: number, size: number) => [
      `429 opened sent in ${sent} -> ${sent + 1}`,
      `cooldown ${sent + 1} opened`,
      ...Array<string>(size - 1).fill(`429 joined/extended sent in ${sent} -> ${sent + 1}`),
    ];
    expect(story(lines, true)).toEqual([
      burst(0, 8).sort(),
      ['cooldown 1 ended'],
      // Two cooldowns in a row without a success: the keeper halves the ceiling as it ends the second.
      [...burst(2, 4), 'ceiling 8 -> 4'].sort(),
      ['cooldown 3 ended'],
      [...burst(4, 4), 'ceiling 4 -> 2'].sort(),
      ['cooldown 5 ended'],
      // Then the ramp starts at min(rampStart, ceiling) = 2, and the 20 successes climb back: each
      // `ceiling` successes at the ceiling add one to it (additive increase), the next raises the limit.
      ['ceiling 2 -> 3', 'limit 3', 'ceiling 3 -> 4', 'limit 4', 'ceiling 4 -> 5', 'limit 5', 'ceiling 5 -> 6', 'limit 6'].sort(),
    ]);
    expect(ofType(lines, 'cooldown-ended').map((e) => [e.gen, e.limit])).toEqual([
      [1, 4],
      [3, 4],
      [5, 2],
    ]);
    // The series saw the waves: samples with a cooldown open, and the final count.
    const samples = ofType(lines, 'sample');
    expect(samples.at(-1)).toMatchObject({ done: 20, succeeded: 20, rateLimited: 16, cooldownOpen: false });
  }, SLOW_MS);
});
