// The built CLI loads our code as bundles (scripts/bundle.mjs): its entry, the worker thread's
// entry and their shared chunks, not tsc's 96 modules one by one (start-up, issue 12 point 4).
// A resolve hook, registered with --import (which the worker threads inherit), lists every
// module of dist/ that a one-item run loads, on the main thread and in its worker thread.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { cli, ROOT } from '../cli/helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

const HOOK = "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/dist/')) process.stderr.write('loaded ' + r.url + '\\n'); return r; }";

describe('the built CLI', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({});
  });
  afterAll(async () => {
    await sim.close();
  });

  it('loads only its two bundled entries and their chunks from dist/, on both threads', async () => {
    const dir = tempDir('batch-llm-bundle-');
    const register = join(dir, 'register.mjs');
    await writeFile(register, `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});\n`);
    const input = join(dir, 'in.jsonl');
    await writeFile(input, '{"custom_id":"a","prompt":"hello"}\n');
    const out = join(dir, 'out.jsonl');
    const run = await cli(['run', input, '-o', out, '--no-progress', '--threads', '1', '--base-url', sim.url], { nodeFlags: ['--import', register] });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ custom_id: 'a', response: { status_code: 200 } });

    const ours = [...new Set(run.stderr.split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice('loaded '.length)))]
      .filter((url) => url.startsWith(`file://${ROOT}dist/`))
      .map((url) => url.slice(`file://${ROOT}`.length));
    expect(ours).toContain('dist/src/cli/main.js');
    expect(ours).toContain('dist/threads/item-worker.js');
    expect(ours.filter((path) => path !== 'dist/src/cli/main.js' && path !== 'dist/threads/item-worker.js' && !path.startsWith('dist/src/chunks/'))).toEqual([]);
  });
});
