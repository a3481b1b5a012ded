// `batch-llm report` on a known results file: the figures it must give, a killed run's torn last
// line set aside, and a resumed item counted by its last line.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultsFigures } from '../../src/report/results-figures.js';
import { textReport } from '../../src/report/text-report.js';
import { tempDir } from '../helpers/temp-dir.js';

function line(id: string, latency: number, extra: { error?: [string, string]; attempts?: number; rateLimited?: number; score?: number | boolean; group?: string } = {}): string {
  return JSON.stringify({
    id: `batch_req_${id}`,
    custom_id: id,
    response: extra.error ? null : { status_code: 200, request_id: null, body: {} },
    error: extra.error ? { code: extra.error[0], message: extra.error[1] } : null,
    batch_llm: {
      line: 1,
      attempts: extra.attempts ?? 1,
      rate_limited: extra.rateLimited ?? 0,
      invalid_outputs: 0,
      latency_ms: latency,
      usage: { prompt: 10, completion: 5, total: 15, cached: 2, reasoning: 0 },
      ...(extra.score !== undefined ? { score: extra.score } : {}),
      ...(extra.group !== undefined ? { group: extra.group } : {}),
    },
  });
}

function knownFile(): string {
  const path = join(tempDir('batch-llm-report-'), 'results.jsonl');
  const lines = [
    // q3 failed first (aborted by a stop), then a resumed run finished it: its last line counts.
    line('q3', 999, { error: ['aborted', 'the run was stopped: SIGINT'] }),
    ...Array.from({ length: 7 }, (_, i) => line(`q${i === 3 ? 8 : i}`, (i + 1) * 100, { score: i % 2 === 0, group: i < 4 ? 'easy' : 'hard' })),
    line('q3', 50, { attempts: 3, rateLimited: 2, score: 1, group: 'easy' }),
    line('q9', 2000, { error: ['timeout', 'the item deadline passed'], attempts: 5 }),
    line('q10', 1500, { error: ['rate_limit', 'Rate limit reached for requests'], attempts: 21, rateLimited: 21 }),
  ];
  // A kill mid-write leaves half a line and no newline.
  writeFileSync(path, `${lines.join('\n')}\n${line('q11', 10).slice(0, 40)}`);
  return path;
}

describe('batch-llm report (text)', () => {
  it('gives the known figures of a results file, resumed and torn', async () => {
    const path = knownFile();
    const figures = await resultsFigures(path);
    expect(figures.file).toMatchObject({ lines: 11, unreadable: 0, tornLastLine: true });
    expect(figures.items).toBe(10);
    expect(figures.succeeded).toBe(8);
    expect(figures.failed).toBe(2);
    expect(figures.by_category).toEqual([
      { category: 'timeout', count: 1, examples: ['the item deadline passed'] },
      { category: 'rate_limit', count: 1, examples: ['Rate limit reached for requests'] },
    ]);
    // Latencies: 100..700, 50, 2000, 1500 → sorted 50,100,200,300,400,500,600,700,1500,2000.
    expect(figures.latency_ms).toEqual({ p50: 400, p90: 1500, p95: 2000, p99: 2000, max: 2000, mean: 635 });
    expect(figures.attempts).toEqual({ total: 7 + 3 + 5 + 21, mean: 3.6, max: 21 });
    expect(figures.rate_limited).toBe(23);
    expect(figures.tokens).toEqual({ prompt: 100, completion: 50, total: 150, cached: 20, reasoning: 0 });
    expect(figures.slowest.slice(0, 3).map((s) => [s.custom_id, s.latency_ms, s.outcome])).toEqual([
      ['q9', 2000, 'timeout'],
      ['q10', 1500, 'rate_limit'],
      ['q6', 700, 'succeeded'],
    ]);
    // Scores: true, false, true, false(q8), true, false, true → 4 of 7, plus q3's 1: 5 of 8.
    expect(figures.scores).toMatchObject({ count: 8, mean: 0.625 });
    expect(figures.scores?.groups).toEqual([
      { group: 'easy', count: 5, mean: 0.6 },
      { group: 'hard', count: 3, mean: 0.667 },
    ]);

    const text = textReport(figures, null);
    expect(text).toContain('10 items from 11 lines (a torn last line ignored');
    expect(text).toContain('succeeded 8, failed 2 (timeout 1, rate_limit 1)');
    expect(text).toContain('attempts 36 (3.6 per item, at most 21), 429s 23');
    expect(text).toContain('scores: 8 scored, mean 0.625');
    expect(text).toContain('q9  timeout  the item deadline passed');
  });
});
