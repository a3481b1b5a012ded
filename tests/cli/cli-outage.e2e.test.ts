// An endpoint that is not there at all, through the built CLI: the run pauses and probes instead
// of failing every item, stops resumably (exit 3) once --outage-patience is used up, and --resume
// against the endpoint once it is up finishes every item with exactly one success.

import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/cli/run-summary.js';
import { startSimulator } from '../../src/sim/index.js';
import { successesByKey } from '../helpers/batch.js';
import { cli, readResults, shortItems, tempDir, writeJsonl } from './helpers.js';

/** A port nobody listens on (for now): every connection to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('an endpoint that is down', () => {
  it('stops with exit 3 after --outage-patience, failing no item, and --resume finishes once it is up', async () => {
    const dir = await tempDir();
    const items = shortItems(40);
    const input = await writeJsonl(join(dir, 'in.jsonl'), items);
    const out = join(dir, 'out.jsonl');
    const summaryPath = join(dir, 'summary.json');
    const port = await closedPort();
    const baseURL = `http://127.0.0.1:${port}/v1`;
    const common = ['--base-url', baseURL, '--model', 'sim', '--no-progress', '--concurrency', '8', '--threads', '2'];

    const down = await cli(['run', input, '-o', out, ...common, '--outage-patience', '1500ms', '--outage-probe', '100ms', '--summary', summaryPath]);
    expect(down.code, down.stderr).toBe(3);
    expect(down.stderr).toMatch(/stopped early \(the endpoint has not answered for [\d.]+ s: connections failed .*; the outage patience of 1\.5 s is used up\)/);
    expect(down.stderr).toMatch(/--resume/);
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as RunSummary;
    expect(summary.outages).toBeGreaterThan(0);
    // Not one transient failure: the items it held are aborted, the rest never started, and
    // every one of them is left for the resume.
    expect(Object.keys(summary.by_category)).toEqual(['aborted']);
    expect(summary.succeeded).toBe(0);
    const stopped = await readResults(out);
    expect(stopped.length).toBeGreaterThan(0);
    expect(stopped.every((line) => line.error?.code === 'aborted' && /the endpoint has not answered/.test(line.error.message))).toBe(true);

    const sim = await startSimulator({ port, latencyMs: 5 });
    try {
      const resumed = await cli(['run', input, '-o', out, ...common, '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      const lines = await readResults(out);
      const last = new Map(lines.map((line) => [line.custom_id, line]));
      expect([...last.keys()].sort()).toEqual(items.map((item) => item.custom_id).sort());
      expect([...last.values()].every((line) => line.error === null && line.response?.status_code === 200)).toBe(true);
      const successes = successesByKey(sim.requests);
      expect(successes.size).toBe(40);
      expect([...successes.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await sim.close();
    }
  }, 120_000);
});
