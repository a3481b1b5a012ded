import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LiveStats } from '../../src/run/live-stats.js';
import { phaseOf, progressLine, startProgress } from '../../src/cli/progress.js';

const live = (overrides: Partial<LiveStats> = {}): LiveStats => ({
  done: 0,
  succeeded: 0,
  failed: 0,
  requests: 0,
  rateLimited: 12,
  cooldowns: 1,
  inFlight: 64,
  limit: 64,
  ceiling: 64,
  coolingDownMs: null,
  outages: 0,
  outageMs: null,
  outagePause: false,
  tokens: { prompt: 40_000, completion: 5_000, total: 45_000, cached: 0, reasoning: 0 },
  cost: null,
  ...overrides,
});

describe('phaseOf', () => {
  it('says when everybody waits, and how the ramp goes', () => {
    expect(phaseOf(null)).toBe('starting');
    expect(phaseOf(live({ coolingDownMs: 11_200 }))).toBe('cooling down 12 s');
    expect(phaseOf(live({ limit: 8 }))).toBe('ramping 8/64');
    expect(phaseOf(live())).toBe('64 in flight');
  });
});

describe('progressLine', () => {
  it('shows done/total, rate, ETA, failures, tokens and 429s', () => {
    const line = progressLine({ done: 1_200, total: 5_000, written: 1_200, failed: 3, live: live({ coolingDownMs: 2_500 }) }, 310);
    expect(line).toBe('1,200/5,000 done (24%) | 310 items/s | ETA 12 s | 3 failed | 45,000 tokens | 12 429s | cooling down 3 s');
  });

  it('shows the cost when prices were given', () => {
    const line = progressLine({ done: 1, total: 2, written: 1, failed: 0, live: live({ cost: 0.01234 }) }, 1);
    expect(line).toContain('| 45,000 tokens | cost 0.0123 | 12 429s |');
  });

  it('shows done alone when the total is unknown', () => {
    expect(progressLine({ done: 7, total: null, written: 7, failed: 0, live: null }, 0)).toMatch(/^7 done \| 0\.0 items\/s \| ETA \? \|/);
  });
});

describe('startProgress', () => {
  it('prints a plain line every interval when not on a terminal, and nothing after stop', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const display = startProgress({
      mode: 'lines',
      stream,
      intervalMs: 20,
      read: () => ({ done: 1, total: 2, written: 1, failed: 0, live: live() }),
    });
    await new Promise((resolve) => setTimeout(resolve, 70));
    display.stop();
    const lines = text.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^batch-llm: 1\/2 done \(50%\)/);
    const count = text.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(text.length).toBe(count);
  });
});
