// The HTML report opened in a real headless Chromium (Debian's, driven by puppeteer-core; no
// browser download): a traced run with three cooldowns against the simulator, its results file
// and trace through `report -o`, then the page must load with no console errors and no network,
// show one cooldown band per cooldown of the trace, and have data points in every chart.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import puppeteer from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/cli/report-command.js';
import { resultLine, serializeLine } from '../../src/io/output.js';
import { runBatch } from '../../src/run/run-batch.js';
import { traceFigures } from '../../src/report/trace-figures.js';
import { chatItems } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

const start = useSimulator();
const CHROMIUM = '/usr/bin/chromium';

describe('the HTML report in a real browser', () => {
  it('loads without errors or network, shades every cooldown, and draws every chart', async () => {
    const dir = tempDir('batch-llm-report-html-');
    const hint = { header: 'retry-after-ms' as const, ms: 150 };
    const sim = await start({
      latencyMs: 20,
      latencyJitterMs: 60,
      faults: { storms: [{ holdUntilInFlight: 8, hint }, { holdUntilInFlight: 4, hint }, { holdUntilInFlight: 4, hint }] },
    });
    const tracePath = join(dir, 'trace.jsonl');
    const items = chatItems(400);
    const { results } = await runBatch({ items, baseURL: sim.url, concurrency: 8, threads: 1, rampStart: 4, trace: tracePath, sampleIntervalMs: 25 });
    const resultsPath = join(dir, 'results.jsonl');
    writeFileSync(resultsPath, results.map((r, i) => serializeLine(resultLine(r, i + 1))).join(''));
    const out = join(dir, 'report.html');
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    expect(await reportCommand({ results: resultsPath, trace: tracePath, out, groupBy: undefined }, { stdout: sink, stderr: sink })).toBe(0);
    const cooldowns = (await traceFigures(tracePath)).cooldowns.length;
    expect(cooldowns).toBe(3);

    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 1800 });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warn') problems.push(`${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${String(error)}`));
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`file://${out}`, { waitUntil: 'load' });
      await page.waitForFunction('window.batchLlmReport !== undefined', { timeout: 10_000 });

      expect(problems).toEqual([]);
      // Self-contained: the page itself is the only thing loaded.
      expect(requests.filter((url) => !url.startsWith('file://') && !url.startsWith('data:'))).toEqual([]);
      expect(await page.$$eval('.cooldown-band', (bands) => bands.filter((b) => b.getBoundingClientRect().width > 0).length)).toBe(cooldowns);
      expect(await page.$$eval('.rl-mark', (marks) => marks.length)).toBe(16);

      // Every chart holds data points and painted its canvas.
      // Runs in the page (as text: the tests are type-checked without the DOM library).
      const charts = (await page.evaluate(`(() => {
        const all = window.batchLlmReport.charts;
        return Object.entries(all).map(([name, chart]) => {
          const canvas = chart.root.querySelector('canvas');
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let painted = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
          return { name, x: chart.data[0].length, points: chart.data.slice(1).map((s) => s.filter((v) => v !== null && v > 0).length), painted };
        });
      })()`)) as Array<{ name: string; x: number; points: number[]; painted: number }>;
      expect(charts.map((c) => c.name).sort()).toEqual(['latency', 'outcomes', 'timeline', 'tokens']);
      for (const chart of charts) {
        expect(chart.x, chart.name).toBeGreaterThan(0);
        for (const points of chart.points) expect(points, chart.name).toBeGreaterThan(0);
        expect(chart.painted, chart.name).toBeGreaterThan(1000);
      }
      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      copyFileSync(shot, '/tmp/report-screenshot.png');
    } finally {
      await browser.close();
    }
  }, 120_000);
});
