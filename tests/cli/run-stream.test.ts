// `batch-llm run`'s streaming part when the results file's last write fails: lines finished in
// the engine's last moments are written after it has ended, so a failure there can no longer stop
// the engine; the run must still end stopped (exit 3, a stopped meta file), for --resume to run
// the items without a line. Deterministic where the e2e test (cli-files.e2e.test.ts) is not: its
// engine may end before or after its lines are written.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';

describe('streamToFile', () => {
  it('ends the run stopped when the write after the engine has ended fails', async () => {
    const dir = tempDir('batch-llm-stream-');
    const input = join(dir, 'in.jsonl');
    await writeFile(input, '{"custom_id":"a","prompt":"one"}\n{"custom_id":"b","prompt":"two"}\n');
    const fixture = new URL('../fixtures/final-write.ts', import.meta.url).pathname;
    // Past `ulimit -f 1` (512 bytes) writes fail with EFBIG; a line here is ~800 bytes.
    const run = spawnSync('sh', ['-c', 'ulimit -f 1; exec "$0" "$@"', process.execPath, '--import', 'tsx', fixture, input, join(dir, 'out.jsonl')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const outcome = JSON.parse(run.stdout) as { exitCode: number; stopped: { reason: string } | null; end: { state: string; reason?: string }; writeError: string | null };
    expect(outcome.writeError).toBe('EFBIG');
    expect(outcome.exitCode).toBe(3);
    expect(outcome.stopped?.reason).toMatch(/^cannot write .*out\.jsonl: EFBIG$/);
    expect(outcome.end).toMatchObject({ state: 'stopped', reason: expect.stringMatching(/^cannot write .*out\.jsonl: EFBIG$/) });
  });
});
