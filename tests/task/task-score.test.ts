// Scores for eval runs, end to end through the CLI on the built-in simulator: the example eval
// task scores each answer against the expected one; every result line carries its score and
// group, the summary gives count, mean and means by --group-by, and `report` reads them back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultsFigures } from '../../src/report/results-figures.js';
import { cli, ROOT } from '../cli/helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('task scores', () => {
  it('carries each score on its line, and sums them up by the --group-by field', async () => {
    const dir = tempDir('batch-llm-score-');
    const out = join(dir, 'eval-out.jsonl');
    const summaryPath = join(dir, 'summary.json');
    const input = join(ROOT, 'examples/eval-questions.jsonl');
    const { code, stderr } = await cli(['run', input, '-o', out, '--task', join(ROOT, 'examples/eval-multiple-choice.ts'), '--group-by', 'topic', '--summary', summaryPath, '--no-progress']);
    expect(code, stderr).toBe(0);

    const records = new Map(readFileSync(input, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { custom_id: string; topic: string; expected: string }).map((r) => [r.custom_id, r]));
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { custom_id: string; batch_llm: { value: { answer: string }; score: boolean; group: string } });
    expect(lines).toHaveLength(12);
    // Each score is the task's verdict on that item's answer against its expected one.
    for (const line of lines) {
      const record = records.get(line.custom_id);
      expect(line.batch_llm.score).toBe(line.batch_llm.value.answer === record?.expected);
      expect(line.batch_llm.group).toBe(record?.topic);
    }
    const right = (topic?: string) => lines.filter((l) => l.batch_llm.score && (topic === undefined || l.batch_llm.group === topic)).length;
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as { scores: { count: number; mean: number; by_group: Record<string, { count: number; mean: number }> } };
    expect(summary.scores.count).toBe(12);
    expect(summary.scores.mean).toBeCloseTo(right() / 12, 4);
    expect(Object.keys(summary.scores.by_group)).toEqual(['arithmetic', 'geography', 'science']);
    for (const [topic, group] of Object.entries(summary.scores.by_group)) expect(group).toEqual({ count: 4, mean: right(topic) / 4 });
    expect(stderr).toContain(`scores: 12 scored, mean ${summary.scores.mean}`);

    const figures = await resultsFigures(out);
    expect(figures.scores?.count).toBe(12);
    expect(figures.scores?.groups.map((g) => [g.group, g.count])).toEqual([['arithmetic', 4], ['geography', 4], ['science', 4]]);
  }, 60_000);
});
