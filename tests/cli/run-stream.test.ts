// `batch-llm run`'s streaming part when the results file's last write (or its sync) fails: lines finished in
// the engine's last moments are written after it has ended, so a failure there can no longer stop
// the engine; the run must still end stopped (exit 3, a stopped meta file), for --resume to run
// the items without a line. Deterministic where the e2e test (cli-files.e2e.test.ts) is not: its
// engine may end before or after its lines are written.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';

type Outcome = { exitCode: number; stopped: { reason: string } | null; end: { state: string; reason?: string }; writeError: string | null };

/** Runs the fixture (tests/fixtures/final-write.ts) over two items: under `shell` first, into `out` (default: a new file). */
async function finalWrite(options: { shell?: string; out?: string; fsync?: boolean }): Promise<Outcome> {
  const dir = tempDir('batch-llm-stream-');
  const input = join(dir, 'in.jsonl');
  await writeFile(input, '{"custom_id":"a","prompt":"one"}\n{"custom_id":"b","prompt":"two"}\n');
  const fixture = new URL('../fixtures/final-write.ts', import.meta.url).pathname;
  const args = [fixture, input, options.out ?? join(dir, 'out.jsonl'), ...(options.fsync ? ['fsync'] : [])];
  const run = spawnSync('sh', ['-c', `${options.shell ?? ''}exec "$0" "$@"`, process.execPath, '--import', 'tsx', ...args], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Outcome;
}

describe('streamToFile', () => {
  it('ends the run stopped when the write after the engine has ended fails', async () => {
    // Past `ulimit -f 1` (512 bytes) writes fail with EFBIG; a line here is ~800 bytes.
    const outcome = await finalWrite({ shell: 'ulimit -f 1; ' });
    expect(outcome.writeError).toBe('EFBIG');
    expect(outcome.exitCode).toBe(3);
    expect(outcome.stopped?.reason).toMatch(/^cannot write .*out\.jsonl: EFBIG$/);
    expect(outcome.end).toMatchObject({ state: 'stopped', reason: expect.stringMatching(/^cannot write .*out\.jsonl: EFBIG$/) });
  });

  it('with --fsync, ends the run stopped when the sync at the end fails', async () => {
    // /dev/null takes every write, and refuses fsync (EINVAL).
    const outcome = await finalWrite({ out: '/dev/null', fsync: true });
    expect(outcome.writeError).toBe('EINVAL');
    expect(outcome.exitCode).toBe(3);
    expect(outcome.end).toMatchObject({ state: 'stopped', reason: 'cannot sync /dev/null: EINVAL' });
  });
});
