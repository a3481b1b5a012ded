// Micro-benchmark of a results-file line as a worker thread makes it (src/io/output.ts readyLine,
// then joinLine on the main thread) against the line made whole (serializeLine(resultLine(…))),
// on one thread, for two kinds of item: a task without parse, whose value is its answer (the
// framework-overhead benchmark's instant task), and a task whose value is a small parsed object
// with a distinct answer per item. --compare times another checkout's readyLine the same way
// (its src/io/output.ts, e.g. an older commit in a worktree). Not in the suite (run-all.ts).
// Prints one JSON object.
//
//   npx tsx benchmarks/results-line.ts [--lines 200000] [--rounds 5] [--compare /path/to/checkout]

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { joinLine, readyLine, resultLine, serializeLine } from '../src/io/output.js';
import type { ItemResult } from '../src/model/item-result.js';
import { cannedCompletion } from './lib/workload.js';
import { printResult } from './lib/report.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' }, compare: { type: 'string' } } });
const lines = Number(values.lines);
const rounds = Number(values.rounds);

const stats = { attempts: 1, rateLimited: 0, invalidOutputs: 0, latencyMs: 18.3, usage: { prompt: 5, completion: 1, total: 6, cached: 0, reasoning: 0 } };
const canned = cannedCompletion();
const kinds: Record<string, (i: number) => ItemResult> = {
  'value is the answer': (i) => ({ ok: true, custom_id: `item-${i}`, status: 200, requestId: null, body: canned, value: canned, stats }),
  'parsed value, distinct answers': (i) => ({
    ok: true,
    custom_id: `item-${i}`,
    status: 200,
    requestId: `req_${i}`,
    body: cannedCompletion(`{"label":"item ${i}","score":${i % 7}}`),
    value: { label: `item ${i}`, score: i % 7 },
    stats,
  }),
};

/** µs per line of `make` over `rounds` rounds after one warm-up round: median, min, max. */
function perLine(make: (result: ItemResult, line: number) => string, item: (i: number) => ItemResult): ReturnType<typeof median> {
  const results = Array.from({ length: lines }, (_, i) => item(i));
  const times: number[] = [];
  let bytes = 0;
  for (let round = 0; round <= rounds; round += 1) {
    const start = performance.now();
    for (let i = 0; i < lines; i += 1) bytes += make(results[i] as ItemResult, i + 1).length;
    if (round > 0) times.push(((performance.now() - start) * 1000) / lines);
  }
  if (bytes === 0) throw new Error('no line made');
  return median(times);
}

type Output = Pick<typeof import('../src/io/output.js'), 'joinLine' | 'readyLine'>;
const other: Output | null = values.compare === undefined ? null : ((await import(join(values.compare, 'src/io/output.ts'))) as Output);

const rows = Object.entries(kinds).map(([kind, item]) => {
  const ready = perLine((result, line) => joinLine(readyLine(result), line), item);
  const whole = perLine((result, line) => serializeLine(resultLine(result, line)), item);
  const compared = other === null ? null : perLine((result, line) => other.joinLine(other.readyLine(result), line), item);
  return {
    kind,
    ready_line_us: ready,
    whole_line_us: whole,
    whole_over_ready: Number((whole.median / ready.median).toFixed(2)),
    ...(compared === null ? {} : { compared_ready_line_us: compared, compared_over_ready: Number((compared.median / ready.median).toFixed(2)) }),
  };
});

printResult('results-line', 'full', { lines, rounds, rows });
