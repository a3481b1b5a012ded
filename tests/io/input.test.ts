import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InputLineReader, parseLine, readInput, readInputBatches, scanInput, type InputRecord } from '../../src/io/input.js';
import { tempDir } from '../helpers/temp-dir.js';

const chat = { messages: [{ role: 'user', content: 'hi' }] };

describe('parseLine', () => {
  it('reads the OpenAI Batch request form', () => {
    const line = JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: chat });
    expect(parseLine(line)).toEqual({ ok: true, custom_id: 'a', body: chat, url: '/v1/chat/completions' });
  });

  it('lets method and url be left out', () => {
    expect(parseLine(JSON.stringify({ custom_id: 'a', body: chat }))).toMatchObject({ ok: true, url: '/v1/chat/completions' });
  });

  it('turns the short form into a chat body with one user message', () => {
    expect(parseLine('{"custom_id":"s","prompt":"Say hi"}')).toEqual({
      ok: true,
      custom_id: 's',
      body: { messages: [{ role: 'user', content: 'Say hi' }] },
      url: '/v1/chat/completions',
    });
    expect(parseLine('{"custom_id":"s","prompt":"Say hi","model":"m1"}')).toMatchObject({ body: { model: 'm1' } });
  });

  it('carries the chat body fields of the short form, max_tokens first, and refuses unknown keys', () => {
    expect(parseLine('{"custom_id":"s","prompt":"hi","max_tokens":8,"temperature":0,"response_format":{"type":"json_object"}}')).toEqual({
      ok: true,
      custom_id: 's',
      body: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, temperature: 0, response_format: { type: 'json_object' } },
      url: '/v1/chat/completions',
    });
    expect(parseLine('{"custom_id":"s","prompt":"hi","max_token":8}')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unknown field "max_token" in the short form of \/v1\/chat\/completions \(it carries custom_id, prompt and the body fields model, max_tokens, /),
    });
  });

  it('accepts the url of each of the four endpoints, and gives a line without url the default endpoint', () => {
    for (const url of ['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses']) {
      expect(parseLine(JSON.stringify({ custom_id: 'a', method: 'POST', url, body: { input: 'x' } }))).toEqual({ ok: true, custom_id: 'a', body: { input: 'x' }, url });
    }
    expect(parseLine('{"custom_id":"a","body":{"input":"x"}}', 'requests', 'embeddings')).toMatchObject({ ok: true, url: '/v1/embeddings' });
    // A url given wins over the default.
    expect(parseLine('{"custom_id":"a","url":"/v1/chat/completions","body":{}}', 'requests', 'embeddings')).toMatchObject({ url: '/v1/chat/completions' });
  });

  it('makes a short-form line a body of the --endpoint, with that endpoint’s fields', () => {
    expect(parseLine('{"custom_id":"e","prompt":"embed me","dimensions":64,"model":"m"}', 'requests', 'embeddings')).toEqual({
      ok: true,
      custom_id: 'e',
      body: { input: 'embed me', dimensions: 64, model: 'm' },
      url: '/v1/embeddings',
    });
    expect(parseLine('{"custom_id":"t","prompt":"once","max_tokens":5}', 'requests', 'completions')).toEqual({ ok: true, custom_id: 't', body: { prompt: 'once', max_tokens: 5 }, url: '/v1/completions' });
    expect(parseLine('{"custom_id":"r","prompt":"hi","max_output_tokens":5,"instructions":"be brief"}', 'requests', 'responses')).toEqual({
      ok: true,
      custom_id: 'r',
      body: { input: 'hi', max_output_tokens: 5, instructions: 'be brief' },
      url: '/v1/responses',
    });
    // A chat field is unknown to embeddings: refused, not dropped.
    expect(parseLine('{"custom_id":"e","prompt":"x","max_tokens":5}', 'requests', 'embeddings')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unknown field "max_tokens" in the short form of \/v1\/embeddings \(it carries custom_id, prompt and the body fields model, dimensions, encoding_format, user;/),
    });
  });

  it('refuses "stream": true, whose answer would come as events with no usage, rather than faking a success', () => {
    expect(parseLine('{"custom_id":"s","prompt":"hi","stream":true}')).toMatchObject({ ok: false, reason: expect.stringMatching(/"stream": true is not supported/) });
    expect(parseLine(JSON.stringify({ custom_id: 'b', body: { ...chat, stream: true } }))).toMatchObject({ ok: false, reason: expect.stringMatching(/"stream": true is not supported/) });
    expect(parseLine(JSON.stringify({ custom_id: 'b', body: { ...chat, stream: false } }))).toMatchObject({ ok: true });
  });

  it.each([
    ['not json', null, /^not valid JSON \(/],
    ['[1,2]', null, /^expected a JSON object, got array$/],
    ['null', null, /^expected a JSON object, got null$/],
    ['{"body":{}}', null, /^expected "custom_id" to be a string, got nothing$/],
    ['{"custom_id":17,"body":{}}', null, /^expected "custom_id" to be a string, got number$/],
    ['{"custom_id":"","body":{}}', null, /^expected "custom_id" to be a non-empty string/],
    ['{"custom_id":"a"}', 'a', /^expected "body" to be an object \(or a "prompt" string\), got nothing$/],
    ['{"custom_id":"a","body":"hi"}', 'a', /^expected "body" to be an object .*got string$/],
    ['{"custom_id":"a","body":[]}', 'a', /got array$/],
    ['{"custom_id":"a","url":"/v1/moderations","body":{}}', 'a', /^unsupported url "\/v1\/moderations" \(expected one of \/v1\/chat\/completions, \/v1\/completions, \/v1\/embeddings, \/v1\/responses\)$/],
    ['{"custom_id":"a","url":7,"body":{}}', 'a', /^expected "url" to be a string, got number$/],
    ['{"custom_id":"a","method":"GET","body":{}}', 'a', /^expected "method" to be "POST", got "GET"$/],
    ['{"custom_id":"a","prompt":5}', 'a', /^expected "prompt" to be a string, got number$/],
    ['{"custom_id":"a","prompt":"x","body":{}}', 'a', /^has both "prompt" and "body"/],
    ['{"custom_id":"a","prompt":"x","model":1}', 'a', /^expected "model" to be a string, got number$/],
  ])('refuses %s with a message saying what was expected and what came', (text, id, reason) => {
    const parsed = parseLine(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.custom_id).toBe(id);
    expect(parsed.reason).toMatch(reason);
  });
});

describe('parseLine in records mode (a task that builds its requests)', () => {
  it('hands the whole line to the task, whatever its fields are called', () => {
    const line = { custom_id: 'r1', text: 'Ada Lovelace, 1815', url: 'https://example.com/page', body: 'not a request body' };
    expect(parseLine(JSON.stringify(line), 'records')).toEqual({ ok: true, custom_id: 'r1', record: line });
    // A record's item goes to the reader's endpoint (its own fields are the user's data, a "url" too).
    expect(new InputLineReader('in.jsonl', 'records', 'embeddings').read(JSON.stringify({ ...line, url: '/x' }), 1)).toMatchObject({ kind: 'item', item: { url: '/v1/embeddings' } });
  });

  it('still needs a JSON object with a string custom_id', () => {
    expect(parseLine('{"text":"x"}', 'records')).toMatchObject({ ok: false, reason: 'expected "custom_id" to be a string, got nothing' });
    expect(parseLine('[]', 'records')).toMatchObject({ ok: false, reason: 'expected a JSON object, got array' });
  });
});

describe('InputLineReader', () => {
  it('names the file and the line, skips blank lines and catches repeated custom_ids', () => {
    const reader = new InputLineReader('input.jsonl');
    const records = [
      '{"custom_id":"a","prompt":"1"}',
      '',
      '   ',
      '{"custom_id":17,"prompt":"2"}',
      '{"custom_id":"a","prompt":"3"}',
      '{"custom_id":"b","url":"/v1/moderations","body":{}}',
      '{"custom_id":"b","prompt":"4"}',
    ].map((text, i) => reader.read(text, i + 1));
    expect(records[1]).toBeNull();
    expect(records[2]).toBeNull();
    expect(records[0]).toMatchObject({ kind: 'item', line: 1, item: { custom_id: 'a' } });
    expect(records[3]).toEqual({
      kind: 'invalid',
      line: 4,
      custom_id: null,
      message: 'input.jsonl:4: expected "custom_id" to be a string, got number',
    });
    // The repeat's line carries no custom_id: the first line owns it.
    expect(records[4]).toEqual({ kind: 'invalid', line: 5, custom_id: null, message: 'input.jsonl:5: repeats custom_id "a" from line 1' });
    // An invalid line with a usable id still claims it.
    expect(records[5]).toMatchObject({ kind: 'invalid', custom_id: 'b', message: expect.stringMatching(/^input.jsonl:6: unsupported url/) });
    expect(records[6]).toMatchObject({ kind: 'invalid', custom_id: null, message: 'input.jsonl:7: repeats custom_id "b" from line 6' });
  });
});

async function tempFile(name: string, text: string | Buffer): Promise<string> {
  const dir = tempDir('batch-llm-input-');
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('readInput', () => {
  it('streams the file, counting lines from 1 with blank and CRLF lines, stripping a BOM', async () => {
    const path = await tempFile('in.jsonl', '\uFEFF{"custom_id":"a","prompt":"x"}\r\n\r\n{oops\r\n{"custom_id":"b","prompt":"y"}');
    const records: InputRecord[] = [];
    for await (const record of readInput(path, { label: 'in.jsonl' })) records.push(record);
    expect(records.map((r) => [r.kind, r.line])).toEqual([
      ['item', 1],
      ['invalid', 3],
      ['item', 4],
    ]);
    expect(records[1]).toMatchObject({ message: expect.stringMatching(/^in\.jsonl:3: not valid JSON/) });
  });

  it('keeps a lone \\r inside a line (JSON whitespace) and names a line that is not UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"custom_id":"a",\r"prompt":"x"}\n'),
      Buffer.from('{"custom_id":"b","prompt":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n{"custom_id":"c","prompt":"z"}\n'),
    ]);
    const path = await tempFile('cr.jsonl', bytes);
    const records: InputRecord[] = [];
    for await (const record of readInput(path, { label: 'cr.jsonl' })) records.push(record);
    expect(records.map((r) => [r.kind, r.line])).toEqual([
      ['item', 1],
      ['invalid', 2],
      ['item', 3],
    ]);
    expect(records[1]).toMatchObject({ message: 'cr.jsonl:2: not valid UTF-8 (save the file as UTF-8)' });
  });

  it('tells apart ids whose fingerprints collide, and names the first line of a real repeat far back', async () => {
    // "id-149599" and "id-312382" have the same 32-bit fingerprint (id-fingerprints.ts): only
    // reading line 1 back tells that they differ. The repeats come after lines of 70 kB, so the
    // line read back lies several 64 kB chunks and more than 64 lines before them.
    const filler = Array.from({ length: 100 }, (_, i) => JSON.stringify({ custom_id: `f-${i}`, prompt: 'x'.repeat(i % 10 === 0 ? 70_000 : 10) }));
    const lines = ['{"custom_id":"id-149599","prompt":"a"}', '{"custom_id":"id-312382","prompt":"b"}', ...filler, '{"custom_id":"id-312382","prompt":"c"}', '{"custom_id":"id-149599","prompt":"d"}'];
    const path = await tempFile('collide.jsonl', `\uFEFF${lines.join('\r\n')}\n`);
    const records: InputRecord[] = [];
    for await (const record of readInput(path, { label: 'collide.jsonl', lines: lines.length })) records.push(record);
    expect(records.filter((r) => r.kind === 'item')).toHaveLength(102);
    expect(records.slice(-2)).toEqual([
      { kind: 'invalid', line: 103, custom_id: null, message: 'collide.jsonl:103: repeats custom_id "id-312382" from line 2' },
      { kind: 'invalid', line: 104, custom_id: null, message: 'collide.jsonl:104: repeats custom_id "id-149599" from line 1' },
    ]);
  });

  it('reads a stream once, naming it stdin', async () => {
    const records: InputRecord[] = [];
    for await (const record of readInput(Readable.from([Buffer.from('{"custom_id":"a","pro'), Buffer.from('mpt":"x"}\n{bad\n')]))) records.push(record);
    expect(records).toMatchObject([{ kind: 'item', line: 1 }, { kind: 'invalid', line: 2, message: expect.stringMatching(/^stdin:2: /) }]);
  });

  it('joins a line cut across reads, through a read without a newline and inside a multi-byte character', async () => {
    const text = '{"custom_id":"é1","prompt":"naïve"}\n{"custom_id":"é2","prompt":"…"}';
    const bytes = Buffer.from(text);
    // Cut in the middle of "é" (two bytes), then again before the first newline, then inside "…".
    const cuts = [15, 25, bytes.indexOf(0xe2) + 1];
    const parts = [0, ...cuts].map((from, i) => bytes.subarray(from, cuts[i] ?? bytes.length));
    const records: InputRecord[] = [];
    for await (const record of readInput(Readable.from(parts))) records.push(record);
    expect(records).toMatchObject([
      { kind: 'item', line: 1, item: { custom_id: 'é1', body: { messages: [{ content: 'naïve' }] } } },
      { kind: 'item', line: 2, item: { custom_id: 'é2', body: { messages: [{ content: '…' }] } } },
    ]);
  });

  it('drops a BOM at the start of any line (files joined with cat) and a CRLF cut between reads', async () => {
    // b's BOM in the middle of a read, c's \r and \n in two reads.
    const parts = ['{"custom_id":"a","prompt":"x"}\n\uFEFF{"custom_id":"b","prompt":"y"}\n{"custom_id":"c","prompt":"z"}\r', '\n{"custom_id":"d","prompt":"w"}\r\n'];
    const records: InputRecord[] = [];
    for await (const record of readInput(Readable.from(parts.map((part) => Buffer.from(part))))) records.push(record);
    expect(records.map((r) => (r.kind === 'item' ? r.item.custom_id : r.message))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('hands a large read over in batches of at most 1,024 records, in order', async () => {
    const text = Array.from({ length: 2_500 }, (_, i) => JSON.stringify({ custom_id: `r${i}`, prompt: 'x' })).join('\n') + '\n';
    const sizes: number[] = [];
    const lines: number[] = [];
    for await (const batch of readInputBatches(Readable.from([Buffer.from(text)]))) {
      sizes.push(batch.length);
      lines.push(...batch.map((record) => record.line));
    }
    expect(sizes).toEqual([1_024, 1_024, 452]);
    expect(lines).toEqual(Array.from({ length: 2_500 }, (_, i) => i + 1));
  });

  it('rejects when the file cannot be read', async () => {
    const reading = async () => {
      for await (const _ of readInput('/nonexistent/in.jsonl')) void _;
    };
    await expect(reading()).rejects.toThrow(/ENOENT/);
  });
});

describe('scanInput', () => {
  it('hashes the whole file and counts non-blank lines', async () => {
    const text = '{"a":1}\n\n  \n{"b":2}\r\n{"c":3}';
    const path = await tempFile('in.jsonl', text);
    expect(await scanInput(path)).toEqual({
      size: Buffer.byteLength(text),
      sha256: createHash('sha256').update(text).digest('hex'),
      lines: 3,
    });
  });

  it('counts lines across read chunks', async () => {
    const line = `${JSON.stringify({ custom_id: 'x', prompt: 'p'.repeat(300) })}\n`;
    const text = line.repeat(10_000);
    const path = await tempFile('big.jsonl', text);
    // 3.3 MB: several reads, into the two buffers in turn; the hash covers every byte exactly once.
    expect(await scanInput(path)).toEqual({ size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex'), lines: 10_000 });
  });
});
