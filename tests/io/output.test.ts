import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchItemError } from '../../src/model/errors.js';
import { invalidInputLine, joinLine, readyLine, ResultFile, resultLine, serializeLine, type AppendFailure } from '../../src/io/output.js';
import type { ItemResult } from '../../src/model/item-result.js';
import { tempDir } from '../helpers/temp-dir.js';

const usage = { prompt: 10, completion: 4, total: 14, cached: 2, reasoning: 0 };
const stats = { attempts: 3, rateLimited: 1, invalidOutputs: 0, latencyMs: 123.456, usage };

describe('resultLine', () => {
  it('writes a success in the OpenAI Batch output format, with batch-llm facts under one key', () => {
    const body = { id: 'chatcmpl-1', choices: [] };
    const result: ItemResult = { ok: true, custom_id: 'a', status: 200, requestId: 'req_1', body, stats };
    const line = resultLine(result, 7);
    expect(line).toEqual({
      id: expect.stringMatching(/^batch_req_[0-9a-f]{32}$/),
      custom_id: 'a',
      response: { status_code: 200, request_id: 'req_1', body },
      error: null,
      batch_llm: { line: 7, attempts: 3, rate_limited: 1, invalid_outputs: 0, latency_ms: 123, usage },
    });
    expect(Object.keys(line)).toEqual(['id', 'custom_id', 'response', 'error', 'batch_llm']);
  });

  it('keeps a task’s value under batch_llm', () => {
    const result: ItemResult = { ok: true, custom_id: 'a', status: 200, requestId: null, body: {}, value: { label: 'Ada (1815)' }, stats: { ...stats, invalidOutputs: 1 } };
    expect(resultLine(result, 1).batch_llm).toMatchObject({ invalid_outputs: 1, value: { label: 'Ada (1815)' } });
    expect('value' in resultLine({ ...result, value: undefined }, 1).batch_llm).toBe(false);
  });

  it('writes a failure with its category as the error code and the last HTTP response', () => {
    const result: ItemResult = {
      ok: false,
      custom_id: 'b',
      error: new BatchItemError({ category: 'bad_request', code: 'context_length_exceeded', status: 400, message: '400 too long' }),
      requestId: 'req_2',
      body: { message: 'too long', type: 'invalid_request_error', code: 'context_length_exceeded' },
      stats,
    };
    expect(resultLine(result, null)).toMatchObject({
      custom_id: 'b',
      response: {
        status_code: 400,
        request_id: 'req_2',
        body: { error: { message: 'too long', type: 'invalid_request_error', code: 'context_length_exceeded' } },
      },
      error: { code: 'bad_request', message: '400 too long' },
      batch_llm: { line: null },
    });
  });

  it('has a null response when no HTTP response came', () => {
    const result: ItemResult = {
      ok: false,
      custom_id: 'c',
      error: new BatchItemError({ category: 'timeout', code: null, status: null, message: 'Request timed out.' }),
      requestId: null,
      body: null,
      stats,
    };
    expect(resultLine(result, 1)).toMatchObject({ response: null, error: { code: 'timeout', message: 'Request timed out.' } });
  });

  it('makes the same text from a ready line (made before the input line is known) as from the whole line', () => {
    const shared = { id: 'chatcmpl-2', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }] };
    const results: ItemResult[] = [
      { ok: true, custom_id: 'a', status: 200, requestId: 'req_1', body: { id: 'chatcmpl-1', choices: [{ message: { content: '"line":7 {}' } }] }, stats },
      { ok: true, custom_id: 'v', status: 200, requestId: null, body: {}, value: { batch_llm: { line: 3 } }, score: 0.5, group: 'g', cached: true, stats: { ...stats, cutOff: 1, outageFailures: 2, endpoint: 'embeddings', saved: usage } },
      { ok: false, custom_id: 'b', error: new BatchItemError({ category: 'bad_request', code: 'x', status: 400, message: '400 too long' }), requestId: 'req_2', body: { message: 'too long' }, stats },
      { ok: false, custom_id: 'c', error: new BatchItemError({ category: 'timeout', code: null, status: null, message: 'Request timed out.' }), requestId: null, body: null, stats },
      // A task without parse: its value is the answer itself, one object under two keys.
      { ok: true, custom_id: 'same', status: 200, requestId: null, body: shared, value: shared, stats },
      // What JSON.stringify leaves out or rewrites: an undefined body, a function, toJSON, NaN.
      { ok: true, custom_id: 'odd "id"\n', status: 200, requestId: null, body: undefined, value: () => 1, score: Number.NaN, stats: { ...stats, latencyMs: Number.NaN, cutOff: 0 } },
      { ok: true, custom_id: 'date', status: 200, requestId: null, body: { at: new Date(0) }, value: { toJSON: () => 'mine' }, score: false, stats },
      // A 2xx whose answer failed keeps its body as it came; an error body already wrapped stays as it is.
      { ok: false, custom_id: 'd', error: new BatchItemError({ category: 'invalid_output', code: null, status: 200, message: 'bad' }), requestId: null, body: { choices: [] }, stats },
      { ok: false, custom_id: 'e', error: new BatchItemError({ category: 'transient', code: null, status: 500, message: '500' }), requestId: 'r', body: { error: { message: 'x' } }, stats },
    ];
    const anyId = (text: string): string => text.replace(/batch_req_[0-9a-f]{32}/, 'batch_req_ID');
    for (const result of results) {
      for (const line of [1, 123_456, null]) expect(anyId(joinLine(readyLine(result), line))).toBe(anyId(serializeLine(resultLine(result, line))));
    }
  });

  it('writes an invalid input line with code invalid_input and the message naming the line', () => {
    const line = invalidInputLine({ kind: 'invalid', line: 17, custom_id: null, message: 'in.jsonl:17: expected "custom_id" to be a string, got number' });
    expect(line).toEqual({
      id: expect.stringMatching(/^batch_req_/),
      custom_id: null,
      response: null,
      error: { code: 'invalid_input', message: 'in.jsonl:17: expected "custom_id" to be a string, got number' },
      batch_llm: { line: 17, attempts: 0, rate_limited: 0, invalid_outputs: 0, latency_ms: 0, usage: { prompt: 0, completion: 0, total: 0, cached: 0, reasoning: 0 } },
    });
  });

  it('serializes to one line of JSON ending in a newline', () => {
    const text = serializeLine(invalidInputLine({ kind: 'invalid', line: 1, custom_id: 'x', message: 'a\nb' }));
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(text)).toMatchObject({ custom_id: 'x' });
  });
});

describe('ResultFile', () => {
  it('appends to an existing file, with and without fsync', async () => {
    const path = join(tempDir('batch-llm-out-'), 'out.jsonl');
    const first = new ResultFile(path);
    first.append('one\n');
    first.close();
    const second = new ResultFile(path, { fsync: true });
    second.append('two\n');
    // The bytes are in the file before close: nothing waits in a user-space buffer.
    expect(await readFile(path, 'utf8')).toBe('one\ntwo\n');
    second.close();
    second.close();
  });

  it('writes many lines at once, and when the write fails keeps the whole lines that got in', async () => {
    const path = join(tempDir('batch-llm-out-'), 'out.jsonl');
    const file = new ResultFile(path);
    expect(file.appendLines('a\nb\n')).toBeNull();
    file.close();
    expect(await readFile(path, 'utf8')).toBe('a\nb\n');

    // Past `ulimit -f 1` (512 bytes) writes fail with EFBIG: 5 of the ten 100-byte lines fit whole.
    const limited = join(tempDir('batch-llm-out-'), 'out.jsonl');
    const fixture = new URL('../fixtures/limited-append.ts', import.meta.url).pathname;
    const run = spawnSync('sh', ['-c', 'ulimit -f 1; exec "$0" "$@"', process.execPath, '--import', 'tsx', fixture, limited], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ code: 'EFBIG', linesWritten: 5 });
    const kept = await readFile(limited, 'utf8');
    expect(kept).toHaveLength(500);
    expect(kept.split('\n').slice(0, -1).map((line) => line[0])).toEqual(['0', '1', '2', '3', '4']);
  });
});

describe('ResultFile with fsync', () => {
  // /dev/null takes every write and refuses fsync (EINVAL): a disk that fails its syncs.
  it('reports a sync that fails at close, while a group commit still runs, without throwing then or later', async () => {
    const file = new ResultFile('/dev/null', { fsync: true });
    expect(file.appendLines('a\n')).toBeNull();
    expect(file.close()?.code).toBe('EINVAL');
    // The group commit's callback comes later; it must not throw either (vitest fails on an uncaught error).
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('reports a group commit that failed: the next append fails, and so does close', async () => {
    const file = new ResultFile('/dev/null', { fsync: true });
    expect(file.appendLines('a\n')).toBeNull();
    let failed: AppendFailure | null = null;
    for (let tries = 0; failed === null && tries < 200; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      failed = file.appendLines('b\n');
    }
    expect(failed?.error.code).toBe('EINVAL');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(file.close()?.code).toBe('EINVAL');
  });
});
