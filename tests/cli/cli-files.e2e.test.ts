// The CLI and the files it is pointed at, end to end through the built bin: nothing a user names
// may destroy the input or another output, a pipe is read once and never silently empty, one run
// at a time writes a results file, and a path that cannot be written is refused before any request.

import { spawn } from 'node:child_process';
import { link, mkdir, readFile, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { BIN, cli, notStartedOf, readResults, shortItems, spawnCli, tempDir, waitForLines, writeJsonl, type CliRun } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 5, recordRequests: false });
}, 60_000);
afterAll(async () => {
  await sim.close();
});

/** The CLI in a shell whose files may grow to `blocks` × 512 bytes (`ulimit -f`): past it, writes fail with EFBIG. */
function cliUnderFileLimit(blocks: number, args: string[]): Promise<CliRun> {
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawn('sh', ['-c', `ulimit -f ${blocks}; exec "$0" "$@"`, process.execPath, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr }));
  });
}

describe('batch-llm run and its files', () => {
  it('refuses an output that is the input (or another output) under another name, and leaves the input whole', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(3));
    const before = await readFile(input, 'utf8');
    await symlink(input, join(dir, 'sym.jsonl'));
    await link(input, join(dir, 'hard.jsonl'));
    const base = ['run', input, '--base-url', sim.url, '--no-progress'];
    const cases: Array<[string[], RegExp]> = [
      [[...base, '-o', join(dir, 'sym.jsonl'), '--overwrite'], /--out .*sym\.jsonl is the input file/],
      [[...base, '-o', join(dir, 'hard.jsonl'), '--resume'], /--out .*hard\.jsonl is the input file/],
      [[...base, '-o', join(dir, 'out.jsonl'), '--summary', input], /--summary .*in\.jsonl is the input file/],
      [[...base, '-o', join(dir, 'out.jsonl'), '--summary', join(dir, 'out.jsonl')], /--summary .*out\.jsonl is --out .*out\.jsonl \(the same file\)/],
      [[...base, '-o', join(dir, 'out.jsonl'), '--summary', join(dir, 'out.jsonl.meta.json')], /--summary .* is the meta file of --out/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(await readFile(input, 'utf8')).toBe(before);
    expect((await readdir(dir)).sort()).toEqual(['hard.jsonl', 'in.jsonl', 'sym.jsonl']);
  });

  it('reads piped input once (-, /dev/stdin, a FIFO) and refuses to resume from a pipe', async () => {
    const dir = await tempDir();
    const lines = shortItems(5).map((item) => JSON.stringify(item)).join('\n') + '\n';
    for (const source of ['-', '/dev/stdin']) {
      const out = join(dir, `out-${source.replaceAll('/', '_')}.jsonl`);
      const run = await cli(['run', source, '-o', out, '--base-url', sim.url, '--no-progress'], { stdin: lines });
      expect(run.code, run.stderr).toBe(0);
      expect((await readResults(out)).map((r) => r.custom_id).sort()).toEqual(shortItems(5).map((item) => item.custom_id));
    }
    const fifo = join(dir, 'fifo');
    await new Promise<void>((resolve, reject) => spawn('mkfifo', [fifo]).on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo: ${code}`)))));
    const writer = spawn('sh', ['-c', `cat > '${fifo}'`], { stdio: ['pipe', 'ignore', 'ignore'] });
    writer.stdin.end(lines);
    const viaFifo = await cli(['run', fifo, '-o', join(dir, 'fifo-out.jsonl'), '--base-url', sim.url, '--no-progress']);
    expect(viaFifo.code, viaFifo.stderr).toBe(0);
    expect(await readResults(join(dir, 'fifo-out.jsonl'))).toHaveLength(5);

    const resumed = await cli(['run', '-', '-o', join(dir, 'out--.jsonl'), '--base-url', sim.url, '--resume'], { stdin: lines });
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toMatch(/--resume needs the input as a file: - is a pipe/);
    expect(await readResults(join(dir, 'out--.jsonl'))).toHaveLength(5);
  });

  it('lets one run at a time write a results file, names the other, and takes over the lock of a run killed with -9', async () => {
    const slow = await startSimulator({ latencyMs: 400, recordRequests: false });
    try {
      const dir = await tempDir();
      const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(20));
      const out = join(dir, 'out.jsonl');
      const args = ['run', input, '-o', out, '--base-url', slow.url, '--concurrency', '2', '--no-progress'];
      const first = spawnCli(args);
      await waitForLines(out, 1);
      const second = await cli([...args, '--resume']);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(new RegExp(`out\\.jsonl is in use by another batch-llm run \\(pid ${first.child.pid ?? -1} `));
      first.child.kill('SIGKILL');
      await first.done;
      const resumed = await cli([...args, '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      const ids = (await readResults(out)).filter((r) => r.error === null).map((r) => r.custom_id);
      expect(ids.sort()).toEqual(shortItems(20).map((item) => item.custom_id));
      expect(await readdir(dir)).not.toContain('out.jsonl.lock');
    } finally {
      await slow.close();
    }
  });

  it('refuses a second run on the same results file through a hard link under another name, new file or not', async () => {
    const slow = await startSimulator({ latencyMs: 300, recordRequests: false });
    try {
      const dir = await tempDir();
      const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(200));
      const out = join(dir, 'out.jsonl');
      const other = join(dir, 'other-name.jsonl');
      const base = ['run', input, '--base-url', slow.url, '--concurrency', '2', '--no-progress'];
      // The first run makes the file (it did not exist when it started); the second comes by the link.
      const first = spawnCli([...base, '-o', out]);
      await waitForLines(out, 1);
      await link(out, other);
      const second = await cli([...base, '-o', other, '--resume']);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(`other-name\\.jsonl is in use by another batch-llm run under another name \\(a hard link: .*\\(pid ${first.child.pid ?? -1} `),
      );
      first.child.kill('SIGKILL');
      await first.done;
      // The file exists now: a run through the link locks it before it starts, and the first name is refused.
      const lines = (await readResults(out)).length;
      const viaLink = spawnCli([...base, '-o', other, '--resume']);
      await waitForLines(other, lines + 1);
      const third = await cli([...base, '-o', out, '--resume']);
      expect(third.code).toBe(2);
      expect(third.stderr).toMatch(new RegExp(`out\\.jsonl is in use by another batch-llm run under another name .*\\(pid ${viaLink.child.pid ?? -1} `));
      viaLink.child.kill('SIGTERM');
      expect((await viaLink.done).code).toBe(3);
    } finally {
      await slow.close();
    }
  });

  it('refuses an output path that cannot be written, before any request, with the path and the reason', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(2));
    await mkdir(join(dir, 'taken.jsonl.meta.json'));
    const requestsBefore = sim.stats.requests;
    const cases: Array<[string[], RegExp]> = [
      [['-o', join(dir, 'missing', 'out.jsonl')], /--out .*missing\/out\.jsonl: cannot create it in .*missing: no such file or directory/],
      [['-o', join(dir, 'taken.jsonl')], /the meta file of --out .*taken\.jsonl\.meta\.json: is a directory/],
      [['-o', dir], /--out .*: is a directory/],
      [['-o', join(dir, 'out.jsonl'), '--summary', join(dir, 'nope', 's.json')], /--summary .*nope\/s\.json: cannot create it in .*nope: no such file or directory/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(['run', input, '--base-url', sim.url, ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /);
    }
    expect(sim.stats.requests).toBe(requestsBefore);
  });

  it('stops cleanly when the file cannot grow (EFBIG under ulimit -f): exit 3, only whole lines, and --resume finishes', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(200));
    const out = join(dir, 'out.jsonl');
    const args = ['run', input, '-o', out, '--base-url', sim.url, '--no-progress', '--concurrency', '8'];
    // 24 blocks of 512 bytes: room for a few dozen lines, then every write fails with EFBIG.
    const limited = await cliUnderFileLimit(24, args);
    expect(limited.code, limited.stderr).toBe(3);
    expect(limited.stderr).toMatch(/cannot write .*out\.jsonl \(EFBIG: the file size limit \(ulimit -f\) is reached\)/);
    expect(limited.stderr).toMatch(/run the same command with --resume/);
    expect(limited.stderr).not.toMatch(/unexpected error/);
    const text = await readFile(out, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const kept = await readResults(out);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(200);

    const resumed = await cli([...args, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toMatch(/torn line/);
    const ids = (await readResults(out)).filter((r) => r.error === null).map((r) => r.custom_id);
    expect(ids.sort()).toEqual(shortItems(200).map((item) => item.custom_id));
  });

  it('stops when not one line fits under the file size limit: exit 3, an empty file, and --resume finishes', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(2));
    const out = join(dir, 'out.jsonl');
    const args = ['run', input, '-o', out, '--base-url', sim.url, '--no-progress'];
    // One block of 512 bytes: the meta file fits, a results line (~800 bytes) does not.
    const limited = await cliUnderFileLimit(1, args);
    expect(limited.code, limited.stderr).toBe(3);
    expect(limited.stderr).toMatch(/stopped early \(cannot write .*out\.jsonl: EFBIG\)/);
    expect(await readFile(out, 'utf8')).toBe('');
    const resumed = await cli([...args, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await readResults(out)).map((r) => r.custom_id).sort()).toEqual(['item-00000', 'item-00001']);
  });

  it('stops on SIGHUP like SIGTERM: exit 3, a line for every item read, the rest recorded as not started', async () => {
    const slow = await startSimulator({ latencyMs: 300, recordRequests: false });
    try {
      const dir = await tempDir();
      const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(30));
      const out = join(dir, 'out.jsonl');
      const run = spawnCli(['run', input, '-o', out, '--base-url', slow.url, '--concurrency', '2', '--no-progress']);
      await waitForLines(out, 1);
      run.child.kill('SIGHUP');
      const { code, signal } = await run.done;
      expect(signal).toBeNull();
      expect(code).toBe(3);
      const ids = (await readResults(out)).map((r) => r.custom_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length + (await notStartedOf(out))).toBe(30);
    } finally {
      await slow.close();
    }
  });

  it('refuses a --base-url that is not a URL with exit 2 before any request', async () => {
    const dir = await tempDir();
    const input = await writeJsonl(join(dir, 'in.jsonl'), shortItems(2));
    const bad = await cli(['run', input, '-o', join(dir, 'bad.jsonl'), '--base-url', 'http://[not a host/v1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--base-url: expected an http\(s\) URL/);
    expect(await readdir(dir)).toEqual(['in.jsonl']);
  });
});
