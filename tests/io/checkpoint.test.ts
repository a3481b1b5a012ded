import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  fingerprintDifferences,
  metaPathFor,
  readCheckpoint,
  readMeta,
  writeMeta,
  type RunFingerprint,
} from '../../src/io/checkpoint.js';
import { endpointIdentity } from '../../src/model/redact.js';
import { tempDir } from '../helpers/temp-dir.js';

const ok = (id: string | null): string => `${JSON.stringify({ id: 'batch_req_1', custom_id: id, response: { status_code: 200 }, error: null })}\n`;
const failed = (id: string | null, code = 'transient'): string =>
  `${JSON.stringify({ id: 'batch_req_2', custom_id: id, response: null, error: { code, message: 'm' } })}\n`;

async function outFile(text: string | Buffer): Promise<string> {
  const path = join(tempDir('batch-llm-ckpt-'), 'out.jsonl');
  await writeFile(path, text);
  return path;
}

describe('readCheckpoint', () => {
  it('skips the custom_ids whose last line succeeded', async () => {
    const path = await outFile(ok('a') + failed('b') + failed('c') + ok('c') + ok('d') + failed('d'));
    const checkpoint = await readCheckpoint(path);
    expect([...checkpoint.succeeded].sort()).toEqual(['a', 'c']);
    expect(checkpoint.failed).toBe(2); // b and d run again
    expect(checkpoint).toMatchObject({ lines: 6, corrupt: [], torn: null });
  });

  it('counts aborted items apart from failed ones, and the input lines that have a line', async () => {
    const at = (text: string, line: number): string => text.replace('"error"', `"batch_llm":{"line":${line}},"error"`);
    const path = await outFile(at(ok('a'), 1) + at(failed('b', 'aborted'), 2) + at(failed('c'), 3) + at(failed('c', 'aborted'), 3) + at(failed('d', 'aborted'), 5) + at(ok('d'), 5));
    const checkpoint = await readCheckpoint(path);
    expect(checkpoint).toMatchObject({ failed: 0, aborted: 2 }); // b and c: their last line is aborted
    expect(checkpoint.inputLines.size).toBe(4);
    expect([1, 2, 3, 4, 5].map((line) => checkpoint.inputLines.has(line))).toEqual([true, true, true, false, true]);
    expect(checkpoint.inputLines.countAfter(2)).toBe(2);
  });

  it('lets no invalid-input line decide an item (a repeated custom_id must not undo its success)', async () => {
    const path = await outFile(ok('a') + failed('a', 'invalid_input') + failed(null, 'invalid_input') + failed('x', 'invalid_input'));
    const checkpoint = await readCheckpoint(path);
    expect([...checkpoint.succeeded]).toEqual(['a']);
    expect(checkpoint.failed).toBe(0);
  });

  it('reads a missing file as an empty checkpoint', async () => {
    const checkpoint = await readCheckpoint('/nonexistent/dir/out.jsonl');
    expect(checkpoint).toMatchObject({ succeeded: new Set(), failed: 0, aborted: 0, lines: 0, corrupt: [], torn: null });
    expect(checkpoint.inputLines.size).toBe(0);
  });

  it('moves a torn last line (no newline) to a side file and cuts the file back to its last whole line', async () => {
    const whole = ok('a') + ok('b');
    const tornPart = '{"id":"batch_req_3","custom_id":"c","resp';
    const path = await outFile(whole + tornPart);
    const checkpoint = await readCheckpoint(path, new Date('2024-05-06T07:08:09.123Z'));
    expect([...checkpoint.succeeded]).toEqual(['a', 'b']);
    expect(checkpoint.torn).toEqual({ bytes: Buffer.byteLength(tornPart), sidePath: `${path}.torn-2024-05-06T070809Z` });
    expect(await readFile(path, 'utf8')).toBe(whole);
    expect(await readFile(`${path}.torn-2024-05-06T070809Z`, 'utf8')).toBe(tornPart);
  });

  it('gives a second torn-tail repair within the same second its own side file', async () => {
    const now = new Date('2024-05-06T07:08:09.123Z');
    const path = await outFile(ok('a') + '{"torn":1');
    const first = await readCheckpoint(path, now);
    await writeFile(path, ok('a') + '{"torn":2');
    const second = await readCheckpoint(path, now);
    expect(second.torn?.sidePath).toBe(`${first.torn?.sidePath ?? ''}-2`);
    expect(await readFile(first.torn?.sidePath ?? '', 'utf8')).toBe('{"torn":1');
    expect(await readFile(second.torn?.sidePath ?? '', 'utf8')).toBe('{"torn":2');
  });

  it('sets aside a tail that ends in a newline but is not JSON (a zero-filled block after a crash)', async () => {
    const whole = ok('a');
    const tail = Buffer.concat([Buffer.alloc(100), Buffer.from('\n'), Buffer.alloc(20)]);
    const path = await outFile(Buffer.concat([Buffer.from(whole), tail]));
    const checkpoint = await readCheckpoint(path);
    expect(checkpoint.torn?.bytes).toBe(tail.length);
    expect(await readFile(path, 'utf8')).toBe(whole);
    expect(await readFile(checkpoint.torn?.sidePath ?? '')).toEqual(tail);
  });

  it('keeps whole lines that contain a success even when the item failed before', async () => {
    const path = await outFile(failed('a') + ok('a'));
    expect([...(await readCheckpoint(path)).succeeded]).toEqual(['a']);
  });

  it('reports and ignores unreadable lines in the middle, and tolerates blank lines', async () => {
    const path = await outFile(ok('a') + 'garbage\n' + '\n' + ok('b') + '\n');
    const checkpoint = await readCheckpoint(path);
    expect([...checkpoint.succeeded]).toEqual(['a', 'b']);
    expect(checkpoint.corrupt).toEqual([2]);
    expect(checkpoint.torn).toBeNull();
  });

  it('reads lines longer than a read chunk', async () => {
    const big = `${JSON.stringify({ custom_id: 'big', error: null, response: { body: 'x'.repeat(3 << 20) } })}\n`;
    const path = await outFile(big + ok('a'));
    expect([...(await readCheckpoint(path)).succeeded]).toEqual(['big', 'a']);
  });

  it('can be read again after a repair and appended to', async () => {
    const path = await outFile(ok('a') + '{"custom_id":"b"');
    await readCheckpoint(path);
    await appendFile(path, ok('b'));
    const again = await readCheckpoint(path);
    expect([...again.succeeded]).toEqual(['a', 'b']);
    expect(again.torn).toBeNull();
  });
});

const fingerprint: RunFingerprint = {
  base_url: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini',
  task_sha256: null,
  input: { path: '/data/in.jsonl', size: 100, sha256: 'abc' },
};

describe('run fingerprint', () => {
  it('records the endpoint without credentials or trailing slash, as the response cache keys it', () => {
    expect(endpointIdentity('https://user:s3cret-pass@example.com:8443/v1/?key=sk-123#x')).toBe('https://example.com:8443/v1');
    expect(endpointIdentity('http://localhost:11434/v1')).toBe('http://localhost:11434/v1');
    // A query that is no credential picks another API: a resume against it is another run.
    expect(endpointIdentity('https://x.openai.azure.com/openai/v1/?api-version=2024-10-21&api-key=k-0123456789')).toBe('https://x.openai.azure.com/openai/v1?api-version=2024-10-21');
    expect(endpointIdentity('not a url')).toBe('(not a URL)');
  });

  it('finds no difference in the same run, and one phrase per difference otherwise', () => {
    expect(fingerprintDifferences(fingerprint, { ...fingerprint, input: { ...fingerprint.input, path: '/moved/in.jsonl' } })).toEqual([]);
    const differences = fingerprintDifferences(fingerprint, {
      base_url: 'http://localhost:8000/v1',
      model: 'llama',
      task_sha256: 'def',
      input: { path: '/data/in.jsonl', size: 100, sha256: 'changed' },
    });
    expect(differences).toEqual([
      'endpoint "https://api.openai.com/v1" then, "http://localhost:8000/v1" now',
      'model "gpt-4o-mini" then, "llama" now',
      'the task file changed',
      'the input file changed (/data/in.jsonl, 100 bytes then; /data/in.jsonl, 100 bytes now)',
    ]);
  });

  it('writes <out>.meta.json atomically and reads it back', async () => {
    const dir = tempDir('batch-llm-meta-');
    const path = metaPathFor(join(dir, 'out.jsonl'));
    expect(path).toBe(join(dir, 'out.jsonl.meta.json'));
    expect(await readMeta(path)).toEqual({ kind: 'missing' });
    await writeMeta(path, fingerprint, new Date('2024-01-01T00:00:00Z'));
    expect(await readMeta(path)).toEqual({ kind: 'found', meta: { format: 1, fingerprint, written_at: '2024-01-01T00:00:00.000Z' } });
    expect(await readdir(dir)).toEqual(['out.jsonl.meta.json']);
    await writeFile(path, '{"format":1');
    expect(await readMeta(path)).toMatchObject({ kind: 'unreadable' });
  });
});
