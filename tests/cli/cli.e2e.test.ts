// The CLI end to end: the built bin (dist/, as packaged) spawned as a real process against the
// simulator.

import { createHash } from 'node:crypto';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/run/options.js';
import { threadsFor } from '../../src/run/thread-count.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { cli, notStartedOf, readResults, readRunEnd, ROOT, shortItems, spawnCli, tempDir, waitForLines, writeJsonl } from './helpers.js';

const EXAMPLE = join(ROOT, 'examples/requests.jsonl');


describe('batch-llm --help', () => {
  it('lists every option of the contract with its default, and the documented defaults are the library’s', async () => {
    const { code, stdout } = await cli(['run', '--help']);
    expect(code).toBe(0);
    const flags = [
      '-o, --out <file>',
      '--base-url <url>',
      '--api-key <key>',
      '--model <name>',
      '--task <file>',
      '--concurrency <n>',
      '--threads <n>',
      '--max-attempts <n>',
      '--max-rate-limit-retries <n>',
      '--attempt-timeout <duration>',
      '--outage-patience <duration>',
      '--item-deadline <duration>',
      '--deadline <duration>',
      '--rpm <n>',
      '--tpm <n>',
      '--resume',
      '--preserve-order',
      '--no-progress',
      '--summary <file>',
    ];
    for (const flag of flags) expect(stdout).toContain(flag);
    const flat = stdout.replace(/\s+/g, ' ');
    const defaults = resolveOptions({ items: [], baseURL: 'http://127.0.0.1/v1' });
    expect(flat).toMatch(new RegExp(`--concurrency <n> [^(]*\\(default: ${defaults.concurrency}\\)`));
    expect(flat).toMatch(new RegExp(`--max-attempts <n> [^(]*\\(default: ${defaults.maxAttempts}\\)`));
    expect(flat).toMatch(new RegExp(`--max-rate-limit-retries <n> [^(]*\\(default: ${defaults.maxRateLimitRetries}\\)`));
    expect(defaults.attemptTimeoutMs).toBe(60_000);
    expect(flat).toMatch(/--attempt-timeout <duration> [^(]*\(default: 60s\)/);
    expect(defaults.outagePatienceMs).toBe(600_000);
    expect(defaults.outageProbeMs).toBe(1_000);
    expect(flat).toMatch(/--outage-patience <duration> [^]*?\(default: 10m\) --outage-probe/);
    expect(flat).toMatch(/--outage-probe <duration> [^(]*\(default: 1s\)/);
    const cores = availableParallelism();
    expect(flat).toContain(`--threads <n> worker threads (default: one per CPU with a --task that has postProcess or call (here ${threadsFor(true, cores)}), else CPUs - 1, at least 1 (here ${threadsFor(false, cores)}))`);
    expect(flat).toContain('0 every item succeeded');
    // One table declares every option with its default: each one but --out and --help states it.
    const options = stdout.split('Arguments:')[1]?.split('Input lines')[0]?.match(/^ {2}-/gm) ?? [];
    expect(options.length).toBeGreaterThan(30);
    expect(flat.split('Input lines')[0]?.match(/\(default: /g)).toHaveLength(options.length - 2);
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('sim [options]');
  });

  it('ends quietly when the reader of its output goes away (`batch-llm run --help | head -3`)', async () => {
    const { child, done } = spawnCli(['run', '--help']);
    // The read end closes before the help is written: the write meets EPIPE.
    child.stdout?.destroy();
    const { code, stderr } = await done;
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});

describe('batch-llm run against the built-in simulator', () => {
  it('runs the example file with no endpoint configured, says so, and writes one line per item', async () => {
    const dir = await tempDir();
    const out = join(dir, 'results.jsonl');
    const summaryPath = join(dir, 'summary.json');
    const { code, stderr } = await cli(['run', EXAMPLE, '-o', out, '--summary', summaryPath, '--price-input', '0.15', '--price-output', '0.6']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/cost 0\.\d{4} \(from the --price-\* options\)/);
    expect(stderr).toMatch(/using the built-in simulator at http:\/\/127\.0\.0\.1:\d+\/v1/);
    const ids = (await readFile(EXAMPLE, 'utf8')).trim().split('\n').map((line) => (JSON.parse(line) as { custom_id: string }).custom_id);
    const results = await readResults(out);
    expect(results.map((r) => r.custom_id).sort()).toEqual([...ids].sort());
    for (const result of results) {
      expect(result).toMatchObject({ id: expect.stringMatching(/^batch_req_/), error: null, response: { status_code: 200 } });
      expect(result.batch_llm.attempts).toBe(1);
    }
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ total: ids.length, succeeded: ids.length, failed: 0, by_category: {}, requests: ids.length, rate_limited: 0, cooldowns: 0 });
    expect(summary['tokens']).toMatchObject({ prompt: expect.any(Number), completion: expect.any(Number), total: expect.any(Number) });
    expect(summary['wall_ms']).toEqual(expect.any(Number));
    expect(summary['cost']).toBeGreaterThan(0);
    const meta = JSON.parse(await readFile(`${out}.meta.json`, 'utf8')) as { fingerprint: Record<string, unknown> };
    expect(meta.fingerprint).toMatchObject({ base_url: 'builtin-simulator', model: 'batch-llm-sim', task_sha256: null });
  });

  it('runs under node flags that worker threads refuse (V8 and process-wide ones)', async () => {
    // `node --max-semi-space-size=4 …` is how a user tunes the main thread's heap; Node refuses a
    // worker whose execArgv holds such a flag, so the pool must not hand them on.
    const dir = await tempDir();
    const out = join(dir, 'results.jsonl');
    const { code, stderr } = await cli(['run', EXAMPLE, '-o', out, '--no-progress'], { nodeFlags: ['--max-semi-space-size=4', '--stack-size=2000', '--no-warnings'] });
    expect(stderr).not.toMatch(/ERR_WORKER_INVALID_EXEC_ARGV|unexpected error/);
    expect(code).toBe(0);
    const lines = (await readFile(EXAMPLE, 'utf8')).trim().split('\n').length;
    expect((await readResults(out)).filter((r) => r.error === null)).toHaveLength(lines);
  });
});

describe('batch-llm run --task', () => {
  it('runs the example task over plain records and keeps each post-processed value', async () => {
    const dir = await tempDir();
    const out = join(dir, 'out.jsonl');
    const task = join(ROOT, 'examples/extract-product.ts');
    const { code, stderr } = await cli(['run', join(ROOT, 'examples/products.jsonl'), '-o', out, '--task', task]);
    expect(stderr).toContain('12 succeeded');
    expect(code).toBe(0);
    const results = await readResults(out);
    expect(results).toHaveLength(12);
    for (const result of results) {
      expect(result.batch_llm.value).toMatchObject({ name: expect.any(String), price_eur: expect.any(Number), price_band: expect.any(String) });
    }
    const meta = JSON.parse(await readFile(`${out}.meta.json`, 'utf8')) as { fingerprint: { task_sha256: string } };
    expect(meta.fingerprint.task_sha256).toBe(createHash('sha256').update(await readFile(task)).digest('hex'));
  });

  it('refuses a file that is not a task, or none at all, with exit 2 before touching anything', async () => {
    const dir = await tempDir();
    const out = join(dir, 'out.jsonl');
    const notATask = await cli(['run', EXAMPLE, '-o', out, '--task', join(ROOT, 'tests/fixtures/tasks/not-a-task.ts')]);
    expect(notATask.code).toBe(2);
    expect(notATask.stderr).toMatch(/--task .*not-a-task\.ts: .*expected a default export made by defineTask\(\)/);
    const missing = await cli(['run', EXAMPLE, '-o', out, '--task', join(dir, 'nope.ts')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--task .*nope\.ts: .*could not be loaded/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('batch-llm run against a simulator at --base-url', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      latencyMs: 15,
      latencyJitterMs: 25,
      recordRequests: false,
      faults: { scripts: { 'please fail': [400] } },
    });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('turns malformed input lines into invalid_input results naming the line, runs the rest, and exits 1', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), [
      { custom_id: 'ok-1', prompt: 'hello' },
      'this is not json',
      '',
      { custom_id: 17, prompt: 'number id' },
      { custom_id: 'ok-1', prompt: 'repeat' },
      { custom_id: 'embed', url: '/v1/moderations', body: { input: 'x' } },
      { custom_id: 'no-body', method: 'POST', url: '/v1/chat/completions' },
      { custom_id: 'bad-request', prompt: 'please fail' },
      { custom_id: 'ok-2', method: 'POST', url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: 'hi' }] } },
    ]);
    const out = join(dir, 'out.jsonl');
    const summaryPath = join(dir, 's.json');
    const { code, stderr } = await cli(['run', input, '-o', out, '--base-url', sim.url, '--summary', summaryPath]);
    expect(stderr).not.toContain('built-in simulator');
    expect(code).toBe(1);
    const results = await readResults(out);
    expect(results).toHaveLength(8);
    const byLine = new Map(results.map((r) => [r.batch_llm.line, r]));
    const invalidAt = (line: number) => byLine.get(line)?.error;
    expect(invalidAt(2)).toEqual({ code: 'invalid_input', message: expect.stringMatching(new RegExp(`^${input}:2: not valid JSON`)) });
    expect(invalidAt(4)).toEqual({ code: 'invalid_input', message: `${input}:4: expected "custom_id" to be a string, got number` });
    expect(invalidAt(5)).toEqual({ code: 'invalid_input', message: `${input}:5: repeats custom_id "ok-1" from line 1` });
    expect(invalidAt(6)?.message).toMatch(/:6: unsupported url "\/v1\/moderations"/);
    expect(invalidAt(7)?.message).toMatch(/:7: expected "body" to be an object/);
    expect(byLine.get(6)?.custom_id).toBe('embed');
    expect(byLine.get(5)?.custom_id).toBeNull();
    expect(byLine.get(8)).toMatchObject({ custom_id: 'bad-request', error: { code: 'bad_request' }, response: { status_code: 400 } });
    expect(byLine.get(1)).toMatchObject({ custom_id: 'ok-1', error: null });
    expect(byLine.get(9)).toMatchObject({ custom_id: 'ok-2', error: null });
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ total: 8, succeeded: 2, failed: 6, by_category: { invalid_input: 5, bad_request: 1 } });
  });

  it('exits 2 on usage errors, naming the problem, and touches nothing', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(3));
    const out = join(dir, 'out.jsonl');
    const base = ['run', input, '-o', out, '--base-url', sim.url];
    const cases: Array<[string[], RegExp]> = [
      [[...base, '--rpm', '0'], /`--rpm` to be a finite number of requests per minute/],
      [[...base, '--tpm', 'lots'], /--tpm: expected a number, got "lots"/],
      [[...base, '--deadline', 'soon'], /--deadline: expected a duration/],
      [[...base, '--abort-mode', 'later'], /--abort-mode: expected drain or cancel, got "later"/],
      [[...base, '--fail-fast', 'auth,typo'], /`--fail-fast` to hold error categories .*got `typo`/],
      [[...base, '--max-cost', '5'], /Expected `--price-input\/--price-output` with `--max-cost`/],
      [[...base, '--attempt-timeout', '5x'], /--attempt-timeout: expected a duration such as 500ms, 30s, 5m or 1h, got "5x"/],
      [[...base, '--concurrency', '0'], /`--concurrency` to be an integer >= 1, got `0`/],
      [[...base, '--max-attempts', 'many'], /--max-attempts: expected a whole number, got "many"/],
      [[...base, '--resume', '--overwrite'], /contradict/],
      [[...base, '--price-input', '0.15'], /--price-input and --price-output go together/],
      [[...base, '--price-input', '-1', '--price-output', '1'], /`--price-input` to be a finite price per million tokens/],
      [[...base, '--bogus'], /unknown option '--bogus'/],
      [['run', input, '--base-url', sim.url], /required option '-o, --out <file>' not specified/],
      [['run', join(dir, 'missing.jsonl'), '-o', out, '--base-url', sim.url], /cannot read the input file .*missing\.jsonl: ENOENT/],
      [['run', dir, '-o', out, '--base-url', sim.url], /cannot read the input file .*EISDIR/],
      [['run', input, '-o', input, '--base-url', sim.url], /is the input file/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((run, i) => {
      expect(run.code, cases[i]?.[0].join(' ')).toBe(2);
      expect(run.stderr).toMatch(cases[i]?.[1] ?? /never/);
    });
    expect(await readdir(dir)).toEqual(['in.jsonl']);

    // An existing results file is neither overwritten nor appended to without --resume/--overwrite.
    expect((await cli(base)).code).toBe(0);
    const refused = await cli(base);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already exists and is not empty; use --resume .* or --overwrite/);
    expect(await readResults(out)).toHaveLength(3);
    expect((await cli([...base, '--overwrite'])).code).toBe(0);
    expect(await readResults(out)).toHaveLength(3);
  });

  it('refuses to resume a different run (another model) unless --force-resume', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(5));
    const out = join(dir, 'out.jsonl');
    expect((await cli(['run', input, '-o', out, '--base-url', sim.url, '--model', 'model-a'])).code).toBe(0);
    const refused = await cli(['run', input, '-o', out, '--base-url', sim.url, '--model', 'model-b', '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('model "model-a" then, "model-b" now');
    expect(refused.stderr).toContain('--force-resume');
    await appendFile(input, `${JSON.stringify({ custom_id: 'late', prompt: 'added later' })}\n`);
    const forced = await cli(['run', input, '-o', out, '--base-url', sim.url, '--model', 'model-b', '--resume', '--force-resume']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('the input file changed');
    expect((await readResults(out)).map((r) => r.custom_id)).toEqual(expect.arrayContaining(['late']));
    expect(await readResults(out)).toHaveLength(6);
  });

  it('paces requests to --rpm', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(11));
    const summaryPath = join(dir, 's.json');
    const run = await cli(['run', input, '-o', join(dir, 'out.jsonl'), '--base-url', sim.url, '--rpm', '600', '--summary', summaryPath]);
    expect(run.code).toBe(0);
    // 600 a minute is one every 100 ms (a little more, with the default headroom): 11 take ~1 s.
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { wall_ms: number; requests: number };
    expect(summary.requests).toBe(11);
    expect(summary.wall_ms).toBeGreaterThanOrEqual(900);
  });

  it('writes results in input order with --preserve-order, invalid lines included', async () => {
    const dir = await tempDir();
    const lines: Array<unknown> = shortItems(300);
    lines.splice(10, 0, 'broken {');
    lines.splice(150, 0, { custom_id: 'item-00003', prompt: 'repeat' });
    const input = await writeJsonl(join(dir, 'in.jsonl'), lines);
    const out = join(dir, 'out.jsonl');
    const { code } = await cli(['run', input, '-o', out, '--base-url', sim.url, '--preserve-order', '--concurrency', '32', '--no-progress']);
    expect(code).toBe(1);
    const results = await readResults(out);
    expect(results.map((r) => r.batch_llm.line)).toEqual(Array.from({ length: 302 }, (_, i) => i + 1));
    expect(results[10]?.error?.code).toBe('invalid_input');
    expect(results[150]?.error?.code).toBe('invalid_input');
  });

  it('survives kill -9 mid-run: --resume sets the torn line aside and ends with every custom_id exactly once, as a success', async () => {
    const dir = await tempDir();
    const items = shortItems(600);
    const input = await writeJsonl(join(dir, 'in.jsonl'), items);
    const out = join(dir, 'out.jsonl');
    const args = ['run', input, '-o', out, '--base-url', sim.url, '--concurrency', '8'];
    const first = spawnCli(args);
    await waitForLines(out, 100);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const before = await readResults(out);
    expect(before.length).toBeGreaterThanOrEqual(100);
    expect(before.length).toBeLessThan(600);
    // What a write cut short by a crash leaves behind.
    await appendFile(out, '{"id":"batch_req_torn","custom_id":"item-00599","resp');

    const resumed = await cli([...args, '--resume', '--progress-interval', '200ms']);
    expect(resumed.code).toBe(0);
    // Off a terminal, progress is a plain line every --progress-interval.
    expect(resumed.stderr).toMatch(/batch-llm: \d+\/600 done \(\d+%\) \| [\d.,]+ items\/s \| ETA /);
    expect(resumed.stderr).toMatch(/ended in a torn line \(\d+ bytes.*\); moved it to .*out\.jsonl\.torn-/);
    expect(resumed.stderr).toContain(`resuming ${out}: ${before.length} item(s) already succeeded`);
    const results = await readResults(out);
    const counts = new Map<string, number>();
    for (const result of results) {
      expect(result.error).toBeNull();
      counts.set(result.custom_id ?? '', (counts.get(result.custom_id ?? '') ?? 0) + 1);
    }
    expect(counts.size).toBe(600);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect((await readdir(dir)).filter((name) => name.includes('.torn-'))).toHaveLength(1);

    // Resuming a finished run does nothing, successfully.
    const again = await cli([...args, '--resume']);
    expect(again.code).toBe(0);
    expect(await readResults(out)).toHaveLength(600);
  }, 30_000);

  it('drains on SIGINT (exit 3) with a line for every item read, the rest recorded as not started, and finishes with --resume', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(400));
    const out = join(dir, 'out.jsonl');
    const args = ['run', input, '-o', out, '--base-url', sim.url, '--concurrency', '4', '--no-progress'];
    const first = spawnCli(args);
    await waitForLines(out, 20);
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code).toBe(3);
    expect(stopped.stderr).toContain('SIGINT: draining');
    expect(stopped.stderr).toMatch(/stopped early \(interrupted \(SIGINT\)\)/);
    const partial = await readResults(out);
    // Every input line is accounted for: finished, aborted, or not started (all resumable).
    expect(new Set(partial.map((r) => r.custom_id)).size).toBe(partial.length);
    const notStarted = await notStartedOf(out);
    expect(notStarted).toBeGreaterThan(0);
    expect(partial.length + notStarted).toBe(400);
    const aborted = partial.filter((r) => r.error?.code === 'aborted');
    expect(partial.filter((r) => r.error === null).length + aborted.length).toBe(partial.length);

    const resumed = await cli([...args, '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`0 failed and ${aborted.length} aborted item(s) run again; ${notStarted} not started yet (no line in the file) run now`);
    const successes = (await readResults(out)).filter((r) => r.error === null).map((r) => r.custom_id);
    expect(successes).toHaveLength(400);
    expect(new Set(successes).size).toBe(400);
    expect(await readRunEnd(out)).toEqual({ state: 'complete' });
  }, 30_000);

  it('stops at --deadline (exit 3), accounts for every line, and --resume finishes', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(500));
    const out = join(dir, 'out.jsonl');
    const summaryPath = join(dir, 's.json');
    const args = ['run', input, '-o', out, '--base-url', sim.url, '--concurrency', '4', '--no-progress'];
    const stopped = await cli([...args, '--deadline', '400ms', '--summary', summaryPath]);
    expect(stopped.code).toBe(3);
    expect(stopped.stderr).toMatch(/stopping: .*deadline/);
    const results = await readResults(out);
    const notStarted = await notStartedOf(out);
    expect(results.length + notStarted).toBe(500);
    expect(results.some((r) => r.error?.code === 'aborted')).toBe(true);
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { total: number; not_started: number; stopped: { reason: string } | null };
    expect(summary.total + summary.not_started).toBe(500);
    expect(summary.not_started).toBe(notStarted);
    expect(summary.stopped?.reason).toMatch(/deadline/);
    // The fingerprint does not include the deadline: the same run, resumed without it.
    const resumed = await cli([...args, '--resume']);
    expect(resumed.code).toBe(0);
    const successes = (await readResults(out)).filter((r) => r.error === null).map((r) => r.custom_id);
    expect(new Set(successes).size).toBe(500);
    expect(successes).toHaveLength(500);
  }, 30_000);
});

describe('secrets', () => {
  const KEY = 'sk-test-0123456789-very-secret';
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY, recordRequests: false, faults: { scripts: { 'please fail': [400, 400, 400] } } });
  });
  afterAll(async () => {
    await sim.close();
  });

  async function everything(dir: string): Promise<string> {
    const names = await readdir(dir);
    const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')));
    return texts.join('\n');
  }

  it('never writes the API key to results, summary, meta file, progress or messages', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), [...shortItems(20), { custom_id: 'x', prompt: 'please fail' }, 'not json']);
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, '--base-url', sim.url, '--summary', join(dir, 's.json'), '--progress-interval', '10ms'], {
      env: { OPENAI_API_KEY: KEY },
    });
    expect(run.code).toBe(1);
    expect((await readResults(out)).filter((r) => r.error === null)).toHaveLength(20);
    expect(`${run.stdout}${run.stderr}${await everything(dir)}`).not.toContain(KEY);
  });

  it('stops the batch on an auth error (exit 3) without showing the key it sent', async () => {
    const dir = await tempDir();
    const wrong = 'sk-wrong-9876543210-also-secret';
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(200));
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, '--base-url', sim.url, '--api-key', wrong, '--concurrency', '2', '--summary', join(dir, 's.json')]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/stopping: .*fail-fast on auth/);
    const results = await readResults(out);
    const auth = results.filter((r) => r.error?.code === 'auth');
    expect(auth.length).toBeGreaterThan(0);
    expect(auth.length).toBeLessThan(10);
    expect(auth.every((r) => r.response?.status_code === 401)).toBe(true);
    // The stop leaves the unread rest of the input for --resume, recorded in the meta file.
    const aborted = results.filter((r) => r.error?.code === 'aborted');
    expect(auth.length + aborted.length).toBe(results.length);
    expect(results.length + (await notStartedOf(out))).toBe(200);
    expect(`${run.stdout}${run.stderr}${await everything(dir)}`).not.toContain(wrong);
  });

  it('keeps a secret of the base URL (a query value, as some gateways take keys) out of the trace and every other file', async () => {
    const dir = await tempDir();
    const secret = 'gw-query-secret-0123456789';
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(5));
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, '--base-url', `${sim.url}?key=${secret}`, '--trace', join(dir, 'trace.jsonl'), '--summary', join(dir, 's.json')], {
      env: { OPENAI_API_KEY: KEY },
    });
    expect(run.code, run.stderr).toBe(0);
    const files = await everything(dir);
    expect(files).toContain('"type":"run-started"');
    expect(`${run.stdout}${run.stderr}${files}`).not.toContain(secret);
  });

  it('leaves answers alone that contain a query value of the base URL that is no credential (api-version)', async () => {
    const dir = await tempDir();
    // The simulator echoes the request's model in its answer.
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(2).map((item) => ({ ...item, model: 'gpt-2024-10-21' })));
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, '--base-url', `${sim.url}?api-version=2024-10-21`], { env: { OPENAI_API_KEY: KEY } });
    expect(run.code, run.stderr).toBe(0);
    expect((await readResults(out)).map((line) => (line.response?.body as { model?: string } | undefined)?.model)).toEqual(['gpt-2024-10-21', 'gpt-2024-10-21']);
  });
});

describe('batch-llm sim', () => {
  it('serves the simulator standalone, prints its URL, and stops on Ctrl-C', async () => {
    const server = spawnCli(['sim', '--port', '0', '--latency', '5ms']);
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      server.child.stdout?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /http:\/\/127\.0\.0\.1:\d+\/v1/.exec(text);
        if (match) resolve(match[0]);
      });
      server.child.on('close', () => reject(new Error('sim exited early')));
    });
    const dir = await tempDir();
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', EXAMPLE, '-o', out, '--base-url', url]);
    expect(run.code).toBe(0);
    server.child.kill('SIGINT');
    const stopped = await server.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/stopping after \d+ request/);
  });

  it('refuses bad option values with exit 2', async () => {
    const bad = await cli(['sim', '--error-rate', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--error-rate: expected a probability between 0 and 1');
    const latency = await cli(['sim', '--latency', 'slow']);
    expect(latency.code).toBe(2);
    expect(latency.stderr).toContain('--latency: expected a duration');
  });
});
