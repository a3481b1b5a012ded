// Distributed runs end to end, with real processes: a redis-server, the simulator in its own
// process (`batch-llm sim`), a coordinator (`batch-llm run --redis --no-local-work`) and three
// `batch-llm worker` processes over 1,500 items. Whatever happens to a process, every input line
// ends with exactly one result line and no item has two success lines.
// The rate-control scenarios (one budget, one cooldown across the processes) need the simulator's
// record of every request with its arrival time, so there it runs in the test's process (still
// real HTTP on 127.0.0.1), over fewer items.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimRequestRecord, type Simulator } from '../../src/sim/index.js';
import { BIN, readResults, shortItems, spawnCli, tempDir, waitForLines, writeJsonl, type CliRun } from '../cli/helpers.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startSimProcess } from './sim-process.js';

const ITEMS = 1_500;

interface Sim {
  url: string;
  stop(): void;
}

async function startSim(args: string[]): Promise<Sim> {
  const child = spawn(process.execPath, [BIN, 'sim', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n').find((l) => l.startsWith('http://'));
      if (line !== undefined) resolve(line.trim());
    });
    child.once('exit', () => reject(new Error('the simulator exited')));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** The simulator in this process, recording every request. */
async function startRecordingSim(options: Parameters<typeof startSimulator>[0]): Promise<Sim & { records: readonly SimRequestRecord[] }> {
  const simulator: Simulator = await startSimulator({ ...options, recordRequests: true });
  return { url: simulator.url, records: simulator.requests, stop: () => void simulator.close() };
}

let redis: TestRedis;
let sim: Sim;
let dir: string;
let input: string;
let out: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  redis = await startRedis();
  dir = await tempDir();
  input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(ITEMS));
  out = join(dir, 'out.jsonl');
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  sim.stop();
  await redis.stop();
});

function coordinator(extra: string[] = []): { child: ChildProcess; done: Promise<CliRun> } {
  const run = spawnCli(['run', input, '-o', out, '--base-url', sim.url, '--model', 'batch-llm-sim', '--redis', redis.url, '--run-id', 'e2e', '--no-local-work', '--no-progress', ...extra]);
  children.push(run.child);
  return run;
}

function worker(): { child: ChildProcess; done: Promise<CliRun> } {
  const run = spawnCli(['worker', '--redis', redis.url, '--run-id', 'e2e', '--threads', '1', '--concurrency', '16']);
  children.push(run.child);
  return run;
}

/** Every input line has exactly one result line, and it succeeded. */
async function expectExactlyOnce(items = ITEMS): Promise<void> {
  const lines = await readResults(out);
  const ids = lines.map((line) => line.custom_id);
  expect(new Set(ids).size).toBe(items);
  expect(ids).toHaveLength(items);
  expect(lines.filter((line) => line.error !== null)).toEqual([]);
}

describe('a distributed run across processes', () => {
  it('steady state: three workers share the items, each once', async () => {
    sim = await startSim(['--latency', '20ms']);
    const run = coordinator();
    const workers = [worker(), worker(), worker()];
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const exits = await Promise.all(workers.map((w) => w.done));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
    await expectExactlyOnce();
    // Every worker did a share: the chunks were spread.
    for (const exit of exits) expect(exit.stderr).toMatch(/done: [1-9]\d* item\(s\) committed/);
  }, 60_000);

  it('kill -9 of a worker at 40 %: its chunks are re-delivered, nothing is lost or doubled', async () => {
    sim = await startSim(['--latency', '100ms']);
    const run = coordinator();
    const workers = [worker(), worker(), worker()];
    await waitForLines(out, ITEMS * 0.4, 30_000);
    workers[0]?.child.kill('SIGKILL');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    await expectExactlyOnce();
  }, 90_000);

  it('SIGSTOP of a worker for 8 s: its chunks go to others, its late successes are suppressed and counted', async () => {
    sim = await startSim(['--latency', '150ms']);
    const run = coordinator();
    const workers = [worker(), worker(), worker()];
    await waitForLines(out, ITEMS * 0.3, 30_000);
    const frozen = workers[0]!;
    frozen.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    frozen.child.kill('SIGCONT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    await expectExactlyOnce();
    const exit = await frozen.done;
    // The frozen worker's items in flight were finished by it after SIGCONT and refused.
    const suppressed = Number(/(\d+) late duplicate\(s\) suppressed/.exec(exit.stderr.split('\n').filter((l) => l.includes('done:')).join(''))?.[1] ?? 0);
    expect(suppressed).toBeGreaterThan(0);
    const client = redis.client();
    expect(Number(await client.hget('batch-llm:{e2e}:stats', 'duplicates'))).toBeGreaterThanOrEqual(suppressed);
  }, 90_000);

  it('kill -9 of the coordinator, then run --resume: every line once', async () => {
    sim = await startSim(['--latency', '50ms']);
    const first = coordinator();
    const workers = [worker(), worker(), worker()];
    await waitForLines(out, ITEMS * 0.4, 30_000);
    first.child.kill('SIGKILL');
    await first.done;
    // Workers go on meanwhile; their outcomes wait in the results stream.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const resumed = coordinator(['--resume']);
    const result = await resumed.done;
    expect(result.code, result.stderr).toBe(0);
    await expectExactlyOnce();
    const exits = await Promise.all(workers.map((w) => w.done));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
  }, 90_000);

  it('kill -9 of the coordinator while workers are mid-chunk, then --resume at once: each item is paid for once', async () => {
    // Slow answers, so that at the resume every worker holds chunks whose items are on the wire
    // or waiting in its engine. Enqueued again, another worker would send them too: two paid
    // requests for one line, the second answer refused at the commit.
    const items = 480;
    input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(items));
    const recording = await startSimProcess({ latencyMs: 1000 });
    sim = recording;
    const workers = [worker(), worker(), worker()];
    const first = coordinator(['--chunk-size', '8']);
    await waitForLines(out, 100, 30_000);
    first.child.kill('SIGKILL');
    await first.done;
    const resumed = coordinator(['--chunk-size', '8', '--resume']);
    const result = await resumed.done;
    expect(result.code, result.stderr).toBe(0);
    await expectExactlyOnce(items);
    await Promise.all(workers.map((w) => w.done));
    // Each input line was answered by exactly one request (every request here succeeds).
    const answered = new Map<string, number>();
    for (const record of await recording.requests()) answered.set(record.key, (answered.get(record.key) ?? 0) + 1);
    expect(answered.size).toBe(items);
    expect([...answered].filter(([, n]) => n !== 1).map(([key, n]) => `${key}: ${n} requests`)).toEqual([]);
    expect(Number((await redis.client().hget('batch-llm:{e2e}:stats', 'duplicates')) ?? 0)).toBe(0);
  }, 60_000);

  it('Redis restarted empty mid-run: the run stops resumably (exit 3) instead of waiting for ever, and --resume finishes every line once', async () => {
    sim = await startSim(['--latency', '100ms']);
    const first = coordinator();
    const workers = [worker(), worker()];
    await waitForLines(out, ITEMS * 0.3, 30_000);
    // No persistence: the run's meta, queue, results stream and commit marks are gone.
    await redis.restartEmpty(500);
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(3);
    expect(stopped.stderr).toContain("Redis lost the run's state");
    // The workers leave with the run (they were told it is done) rather than wait for chunks.
    expect((await Promise.all(workers.map((w) => w.done))).map((e) => e.code)).toEqual([0, 0]);
    const lines = await readResults(out);
    expect(lines.filter((line) => line.error === null).length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.error !== null && line.error.code !== 'aborted')).toEqual([]);

    const resumed = coordinator(['--resume']);
    const more = [worker(), worker()];
    const result = await resumed.done;
    expect(result.code, result.stderr).toBe(0);
    await Promise.all(more.map((w) => w.done));
    // As on one machine, the stopped run's `aborted` lines stay in the file; the resume adds
    // each line's one success.
    const all = await readResults(out);
    const successes = all.filter((line) => line.error === null).map((line) => line.custom_id);
    expect(successes).toHaveLength(ITEMS);
    expect(new Set(successes).size).toBe(ITEMS);
    expect(all.filter((line) => line.error !== null && line.error.code !== 'aborted')).toEqual([]);
  }, 90_000);
});

/** The most arrivals in any window of `windowMs` (windows starting at an arrival). */
function busiestWindow(records: readonly SimRequestRecord[], windowMs: number): number {
  const times = records.map((r) => r.arrivedAt).sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < times.length; start += 1) {
    while (end < times.length && times[end]! < times[start]! + windowMs) end += 1;
    most = Math.max(most, end - start);
  }
  return most;
}

describe('one budget and one cooldown across processes', () => {
  it('--rpm: three workers share the run\'s budget — the endpoint sees the limit, not three times it', async () => {
    const items = 400;
    const rpm = 3000;
    input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(items));
    const recording = await startRecordingSim({ latencyMs: 20 });
    sim = recording;
    // Workers first: they wait for the run to appear, so all three are ready when it starts.
    const workers = [worker(), worker(), worker()];
    const run = coordinator(['--rpm', String(rpm), '--chunk-size', '20']);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    await Promise.all(workers.map((w) => w.done));
    await expectExactlyOnce(items);
    // The budget is rpm × 0.98 (the default headroom): 245 requests in 5 s. A window's edges may
    // hold a little more (a slice begun just before it, half a slice carried over, timers late
    // on a loaded machine): 5 % over the limit is allowed. Three processes each pacing to the
    // whole limit (before the leases) sent ~2.7× (274 in 2 s).
    const perWindow = (rpm / 60) * 5;
    const busiest = busiestWindow(recording.records, 5000);
    expect(busiest, `busiest 5 s: ${busiest} requests, limit ${perWindow}`).toBeLessThanOrEqual(perWindow * 1.05);
  }, 60_000);

  it('a 429 burst across the three processes: one global cooldown per burst, a stale 429 opens none, nothing is sent during one', async () => {
    const items = 300;
    input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(items));
    const hint = { header: 'retry-after-ms' as const, ms: 600 };
    const recording = await startRecordingSim({
      latencyMs: 50,
      faults: {
        // Two bursts mid-run: all requests in flight at once (from every process), then, once the
        // processes are back, every request of a 150 ms window.
        storms: [{ passRequests: 60 }, { holdUntilInFlight: 24, hint }, { passRequests: 40 }, { windowMs: 150, hint }],
        // Sent at the start and answered 429 4 s later, long after the first cooldown: stale.
        scripts: { 'prompt 3': [{ status: 429, delayMs: 4000, hint: { header: 'retry-after-ms', ms: 5000 } }] },
      },
    });
    sim = recording;
    // The run's cooldowns as Redis announces them (its clock is this machine's).
    const cooldowns = new Map<number, { from: number; until: number }>();
    const subscriber = redis.client();
    subscriber.on('message', (_channel: string, message: string) => {
      const [kind, gen, until, now] = message.split(' ').map((part, i) => (i === 0 ? part : Number(part)));
      if (kind === 'opened') cooldowns.set(Number(gen), { from: Number(now), until: Number(until) });
      const open = cooldowns.get(Number(gen));
      if (kind === 'extended' && open !== undefined) open.until = Math.max(open.until, Number(until));
    });
    await subscriber.subscribe('batch-llm:{e2e}:events');
    const workers = [worker(), worker(), worker()];
    const run = coordinator(['--chunk-size', '20']);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    await Promise.all(workers.map((w) => w.done));
    await expectExactlyOnce(items);

    const client = redis.client();
    const state = await client.hgetall('batch-llm:{e2e}:cooldown');
    // One cooldown per burst, though 24 + several 429s came to three processes; the stale one
    // (and any other of an ended burst) was refused.
    expect(Number(state['opened'])).toBe(2);
    expect([...cooldowns.keys()]).toEqual([1, 3]);
    expect(Number(state['stale'])).toBeGreaterThanOrEqual(1);
    const storm429s = recording.records.filter((r) => r.cause === 'storm');
    expect(storm429s.length).toBeGreaterThanOrEqual(24 + 3);
    // Nothing reached the endpoint while a cooldown was open, from any process: allowed are the
    // first 100 ms (requests already past the gate; the other processes learn of it by pub/sub)
    // and the last 20 ms (each process converts the end to its own clock from a reply's latency).
    for (const { from, until } of cooldowns.values()) {
      const during = recording.records.filter((r) => r.arrivedAt > from + 100 && r.arrivedAt < until - 20);
      expect(during.map((r) => `${r.key} at +${(r.arrivedAt - from).toFixed(0)} ms of ${until - from}`)).toEqual([]);
    }
  }, 60_000);
});
