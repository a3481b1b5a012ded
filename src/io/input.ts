// Reading the input file: JSONL in the OpenAI Batch request form (any of its four endpoints), or
// the short `{"custom_id", "prompt"}` form, streamed line by line so a file of millions of lines is never
// held whole. A line that cannot be run becomes an `invalid` record naming the file and line
// number; it never stops the rest of the file.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { BatchItem } from '../model/outcome.js';
import { IdTable } from './id-table.js';
import { IdFingerprints } from './id-fingerprints.js';
import { LineOffsets } from './line-offsets.js';
import { isRecord } from '../model/records.js';
import { ENDPOINTS, ENDPOINT_URLS, type Endpoint } from '../model/endpoint.js';

const NEWLINE = 0x0a;

/** Endpoints an input line may name in `url`. */
export const SUPPORTED_URLS: readonly string[] = ENDPOINTS.map((endpoint) => ENDPOINT_URLS[endpoint]);

/**
 * Chat body fields the short form `{"custom_id", "prompt", …}` carries into the request. Any other
 * key is refused rather than dropped: a dropped max_tokens once let answers run to 900 tokens.
 */
export const SHORT_FORM_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'n',
  'stop',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'response_format',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'reasoning_effort',
  'user',
  'metadata',
  'service_tier',
]);

/**
 * The short form for each endpoint: the body field its `prompt` becomes, and the body fields it
 * carries over (those of the endpoint's request; anything else is refused, as for chat).
 */
const SHORT_FORMS: Readonly<Record<Endpoint, { build: (prompt: string) => Record<string, unknown>; fields: ReadonlySet<string> }>> = {
  chat: { build: (prompt) => ({ messages: [{ role: 'user', content: prompt }] }), fields: SHORT_FORM_FIELDS },
  completions: {
    build: (prompt) => ({ prompt }),
    fields: new Set(['model', 'max_tokens', 'temperature', 'top_p', 'n', 'stop', 'seed', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'logprobs', 'echo', 'best_of', 'suffix', 'user']),
  },
  embeddings: { build: (prompt) => ({ input: prompt }), fields: new Set(['model', 'dimensions', 'encoding_format', 'user']) },
  responses: {
    build: (prompt) => ({ input: prompt }),
    fields: new Set(['model', 'instructions', 'max_output_tokens', 'temperature', 'top_p', 'top_logprobs', 'text', 'tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'truncation', 'store', 'metadata', 'user', 'service_tier']),
  },
};

/**
 * A streamed answer arrives as server-sent events, not as one completion: its usage, cost and
 * token budgets would all be blind. Such a line is refused, not faked into a success.
 */
function refuseStream(body: Record<string, unknown>): string | null {
  if (body['stream'] === undefined || body['stream'] === false || body['stream'] === null) return null;
  return `"stream": ${JSON.stringify(body['stream'])} is not supported: a batch reads each answer whole (remove "stream")`;
}

/** One non-blank line of the input file, read. `line` is 1-based and counts blank lines. */
export type InputRecord =
  | { kind: 'item'; line: number; item: BatchItem }
  | {
      kind: 'invalid';
      line: number;
      /** The line's `custom_id` when it had a usable one (a string not seen on an earlier line). */
      custom_id: string | null;
      /** Names the file and the line: `input.jsonl:17: expected "custom_id" to be a string, got number`. */
      message: string;
    };

/** What one line holds, before duplicates are checked. */
export type ParsedLine =
  | { ok: true; custom_id: string; body: Record<string, unknown>; url: string }
  | { ok: true; custom_id: string; record: Record<string, unknown> }
  | { ok: false; custom_id: string | null; reason: string };

/** `number`, `array`, `null`, `nothing` (missing) …: what came, for messages. */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function quote(text: string, max = 80): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** How lines are read: as requests, or as plain records for a task that builds the requests. */
export type LineMode = 'requests' | 'records';

/**
 * Reads one input line (pure; duplicates are the reader's business). In `requests` mode it accepts
 * `{"custom_id","method":"POST","url":"/v1/embeddings","body":{…}}` with the url of one of the four
 * endpoints (method and url may be left out: the url is then `endpoint`'s) and
 * `{"custom_id","prompt":"…","model"?:"…"}`, which becomes a body of `endpoint` (chat: one user
 * message; completions: `prompt`; embeddings and responses: `input`). In `records` mode (a task
 * with buildRequest) any object with a `custom_id` is a record, handed whole to the task: its
 * other fields are the user's data, whatever their names.
 */
export function parseLine(text: string, mode: LineMode = 'requests', endpoint: Endpoint = 'chat'): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, custom_id: null, reason: `not valid JSON (${detail})` };
  }
  if (!isRecord(value)) return { ok: false, custom_id: null, reason: `expected a JSON object, got ${kindOf(value)}` };

  const id = value['custom_id'];
  if (typeof id !== 'string') {
    return { ok: false, custom_id: null, reason: `expected "custom_id" to be a string, got ${kindOf(id)}` };
  }
  if (id === '') return { ok: false, custom_id: null, reason: 'expected "custom_id" to be a non-empty string, got ""' };
  if (mode === 'records') return { ok: true, custom_id: id, record: value };
  const fail = (reason: string): ParsedLine => ({ ok: false, custom_id: id, reason });

  const prompt = value['prompt'];
  const body = value['body'];
  if (prompt !== undefined) {
    if (body !== undefined) return fail('has both "prompt" and "body"; use one');
    if (typeof prompt !== 'string') return fail(`expected "prompt" to be a string, got ${kindOf(prompt)}`);
    const model = value['model'];
    if (model !== undefined && typeof model !== 'string') {
      return fail(`expected "model" to be a string, got ${kindOf(model)}`);
    }
    const streamed = refuseStream(value);
    if (streamed !== null) return fail(streamed);
    const form = SHORT_FORMS[endpoint];
    const unknown = Object.keys(value).filter((key) => key !== 'custom_id' && key !== 'prompt' && !form.fields.has(key));
    if (unknown.length > 0) {
      return fail(
        `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => quote(key)).join(', ')} in the short form of ${ENDPOINT_URLS[endpoint]} ` +
          `(it carries custom_id, prompt and the body fields ${[...form.fields].join(', ')}; use "body" for anything else)`,
      );
    }
    // The body fields go over as they are: max_tokens above all, which caps the answer (and the bill).
    const built = form.build(prompt);
    for (const key of form.fields) if (value[key] !== undefined) built[key] = value[key];
    return { ok: true, custom_id: id, body: built, url: ENDPOINT_URLS[endpoint] };
  }

  const method = value['method'];
  if (method !== undefined && method !== 'POST') {
    return fail(`expected "method" to be "POST", got ${typeof method === 'string' ? quote(method) : kindOf(method)}`);
  }
  const url = value['url'] ?? ENDPOINT_URLS[endpoint];
  if (typeof url !== 'string') return fail(`expected "url" to be a string, got ${kindOf(url)}`);
  if (!SUPPORTED_URLS.includes(url)) {
    return fail(`unsupported url ${quote(url)} (expected one of ${SUPPORTED_URLS.join(', ')})`);
  }
  if (!isRecord(body)) {
    return fail(`expected "body" to be an object (or a "prompt" string), got ${kindOf(body)}`);
  }
  const streamed = refuseStream(body);
  if (streamed !== null) return fail(streamed);
  return { ok: true, custom_id: id, body, url };
}

/** Where a reader keeps the first line of each custom_id: the only state that grows with the input. */
export interface FirstLines {
  /** The first line of `id` if an earlier line had it; else records `line` as its first and returns undefined. */
  firstLine(id: string, line: number): number | undefined;
}

/** Every id's bytes (id-table.ts): for an input read once, such as a pipe. */
function exactFirstLines(): FirstLines {
  const table = new IdTable();
  return {
    firstLine(id, line) {
      const first = table.get(id);
      if (first === undefined) table.set(id, line);
      return first;
    },
  };
}

/**
 * Reads lines, names failures with `label:line:` and catches repeated `custom_id`s. Keeps one
 * compact table entry per `custom_id` seen (id-table.ts, or id-fingerprints.ts for a file).
 */
export class InputLineReader {
  readonly #label: string;
  readonly #mode: LineMode;
  readonly #endpoint: Endpoint;
  readonly #firstLines: FirstLines;

  /**
   * `endpoint`: the endpoint of lines that name none (short-form lines, lines without a url,
   * records); `firstLines`: where the ids seen go (default: an exact table of their bytes).
   */
  constructor(label: string, mode: LineMode = 'requests', endpoint: Endpoint = 'chat', firstLines: FirstLines = exactFirstLines()) {
    this.#label = label;
    this.#mode = mode;
    this.#endpoint = endpoint;
    this.#firstLines = firstLines;
  }

  /** The record for line `line`, or null for a blank line. */
  read(text: string, line: number): InputRecord | null {
    if (text.trim() === '') return null;
    const parsed = parseLine(text, this.#mode, this.#endpoint);
    const id = parsed.custom_id;
    if (id !== null) {
      const first = this.#firstLines.firstLine(id, line);
      // The repeat's result line carries no custom_id: the first line owns it.
      if (first !== undefined) return this.#invalid(line, null, `repeats custom_id ${quote(id)} from line ${first}`);
    }
    if (!parsed.ok) return this.#invalid(line, id, parsed.reason);
    if ('record' in parsed) return { kind: 'item', line, item: { custom_id: parsed.custom_id, record: parsed.record, url: ENDPOINT_URLS[this.#endpoint] } };
    return { kind: 'item', line, item: { custom_id: parsed.custom_id, body: parsed.body, url: parsed.url } };
  }

  /** The record of a line that could not even be read as text. */
  invalid(line: number, reason: string): InputRecord {
    return this.#invalid(line, null, reason);
  }

  #invalid(line: number, custom_id: string | null, reason: string): InputRecord {
    return { kind: 'invalid', line, custom_id, message: `${this.#label}:${line}: ${reason}` };
  }
}

// The BOM is left in (ignoreBOM) and dropped by `lineText`: by default a decoder drops it only at
// the start of each call, and a call here may decode one line or hundreds.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A line's text without its line ending, or null when its bytes are not UTF-8. */
type LineText = string | null;

/**
 * The text of a line as read: without the `\r` of a CRLF ending, nor a BOM at its start (the
 * first line of a file saved with one, or of each file of a `cat a.jsonl b.jsonl`).
 */
function lineText(text: string): string {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const end = text.endsWith('\r') ? text.length - 1 : text.length;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** One line's bytes as text, strictly decoded. */
function decodeLine(bytes: Buffer): LineText {
  try {
    return lineText(utf8.decode(bytes));
  } catch {
    return null;
  }
}

/**
 * Complete lines' bytes (`\n`-separated, no final newline) as text. Decoded in one call and split,
 * not line by line: a call per line and a Buffer per line were a good part of the main thread's
 * cost per item in fast runs. `\n` is never part of a multi-byte UTF-8 sequence, so splitting the
 * text finds the same lines as splitting the bytes; only if some line is not UTF-8 are they
 * decoded one by one, to name that line.
 */
function decodeLines(bytes: Buffer): LineText[] {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    const lines: LineText[] = [];
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
      lines.push(decodeLine(bytes.subarray(start, nl)));
      start = nl + 1;
    }
    lines.push(decodeLine(bytes.subarray(start)));
    return lines;
  }
  const lines: LineText[] = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) lines[i] = lineText(lines[i] as string);
  return lines;
}

/**
 * The lines of a byte stream as text, the complete lines of each chunk at once: split at `\n`
 * only (a `\r` before it is dropped). readline would also split at a lone `\r`, which JSON allows
 * inside a line as whitespace: one line would become two invalid ones and every later line number
 * would be off. Each line is decoded strictly, so a line that is not UTF-8 is named (null here)
 * instead of silently turned into U+FFFD. `offsets`, when given, learns where each line starts.
 */
async function* lineBatches(source: AsyncIterable<Buffer | string>, offsets?: LineOffsets): AsyncGenerator<LineText[], void, undefined> {
  // The bytes of the line being read, from earlier chunks (joined once, when its end comes: a
  // long line must not be copied again for every chunk), and where it starts.
  let carry: Buffer[] = [];
  let lineStart = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (bytes.length === 0) continue;
    const last = bytes.lastIndexOf(NEWLINE);
    if (last === -1) {
      carry.push(Buffer.from(bytes));
      continue;
    }
    const whole = carry.length === 0 ? bytes.subarray(0, last) : Buffer.concat([...carry, bytes.subarray(0, last)]);
    if (offsets !== undefined) {
      offsets.note(lineStart);
      for (let nl = whole.indexOf(NEWLINE); nl !== -1; nl = whole.indexOf(NEWLINE, nl + 1)) offsets.note(lineStart + nl + 1);
    }
    lineStart += whole.length + 1;
    // A copy: the rest of a stream's chunk must not keep the whole chunk alive.
    carry = last + 1 < bytes.length ? [Buffer.from(bytes.subarray(last + 1))] : [];
    yield decodeLines(whole);
  }
  if (carry.length > 0) {
    offsets?.note(lineStart);
    yield [decodeLine(Buffer.concat(carry))];
  }
}

/**
 * The first lines of a file's ids by fingerprint (id-fingerprints.ts), confirmed by reading the
 * earlier line back and taking its custom_id as the reader did.
 */
function fileFirstLines(offsets: LineOffsets, mode: LineMode | undefined, endpoint: Endpoint | undefined, expected: number | undefined): FirstLines {
  const confirm = (line: number, id: string): boolean => {
    const bytes = offsets.read(line);
    if (bytes === null) return false;
    const text = decodeLine(bytes);
    return text !== null && parseLine(text, mode, endpoint).custom_id === id;
  };
  return new IdFingerprints(confirm, expected);
}

/** The most records readInputBatches yields at once (a 64 KB read of short lines holds ~400). */
const MAX_BATCH = 1024;

/** How readInput and readInputBatches read: `label` names the source in messages, `lines` sizes the table of ids. */
export interface ReadInputOptions {
  label?: string;
  mode?: LineMode;
  endpoint?: Endpoint;
  lines?: number;
}

/**
 * The records of a JSONL file (a path) or of a stream such as stdin, in one pass with bounded
 * memory, a batch at a time: the records of the lines one read of the source completed (a blank
 * line has no record), at most MAX_BATCH of them.
 * `label` names the source in messages (default: the path as given, or "stdin"); `mode` says how
 * lines are read (default: requests); `endpoint` is the endpoint of lines that name none
 * (default: chat); `lines`, the file's line count when known (scanInput), sizes the table of ids
 * seen once instead of growing it. Rejects when the source cannot be read.
 */
export async function* readInputBatches(source: string | NodeJS.ReadableStream, options: ReadInputOptions = {}): AsyncGenerator<InputRecord[], void, undefined> {
  const stream = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 16 }) : source;
  // A file can be read again: its ids need not be kept, only their hashes (id-fingerprints.ts).
  const offsets = typeof source === 'string' ? new LineOffsets(source) : undefined;
  const firstLines = offsets === undefined ? undefined : fileFirstLines(offsets, options.mode, options.endpoint, options.lines);
  const reader = new InputLineReader(options.label ?? (typeof source === 'string' ? source : 'stdin'), options.mode, options.endpoint, firstLines);
  let line = 0;
  try {
    for await (const texts of lineBatches(stream as AsyncIterable<Buffer | string>, offsets)) {
      const records: InputRecord[] = [];
      for (const text of texts) {
        // A stream's chunk may be of any size: a batch holds at most MAX_BATCH records.
        if (records.length === MAX_BATCH) yield records.splice(0);
        line += 1;
        const record = text === null ? reader.invalid(line, 'not valid UTF-8 (save the file as UTF-8)') : reader.read(text, line);
        if (record !== null) records.push(record);
      }
      if (records.length > 0) yield records;
    }
  } finally {
    if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
    offsets?.close();
  }
}

/** readInputBatches a record at a time. */
export async function* readInput(source: string | NodeJS.ReadableStream, options: ReadInputOptions = {}): AsyncGenerator<InputRecord, void, undefined> {
  for await (const records of readInputBatches(source, options)) yield* records;
}

/** What one fast pass over the input file learns: its size, content hash and non-blank lines. */
export interface InputScan {
  size: number;
  /** SHA-256 of the whole file, hex. */
  sha256: string;
  /** Lines with content (an upper bound on items: blank lines are not counted, invalid ones are). */
  lines: number;
}

function isBlank(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

/** The scan's read size. */
const SCAN_CHUNK = 1 << 20;

/**
 * One streaming pass over the file's bytes: hash and count non-blank lines, for the run
 * fingerprint and the progress total. Rejects when the file cannot be read.
 */
export async function scanInput(path: string): Promise<InputScan> {
  const hash = createHash('sha256');
  let size = 0;
  let lines = 0;
  // Whether the current (unfinished) line has seen a non-blank byte so far.
  let content = false;
  // Two buffers, read into again and again. A stream would hand out a new buffer per chunk: for a
  // large file, dozens of them alive until the next collection — and glibc keeps the memory they
  // had (~30 MB of RSS after a 1M-line file's scan, for the rest of the run). Two, so that the
  // next chunk is read (in libuv's thread pool) while this one is hashed and counted here: the
  // scan stands between the run's start and its first request.
  let filling = Buffer.allocUnsafe(SCAN_CHUNK);
  let spare = Buffer.allocUnsafe(SCAN_CHUNK);
  const file = await open(path, 'r');
  try {
    // One read in flight at a time, so the file position (null: "where the last read ended") is
    // always the next chunk's. An error ends the scan at its await; close waits for any read.
    let reading = file.read(filling, 0, SCAN_CHUNK, null);
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      const bytes = filling.subarray(0, bytesRead);
      [filling, spare] = [spare, filling];
      reading = file.read(filling, 0, SCAN_CHUNK, null);
      hash.update(bytes);
      size += bytes.length;
      let start = 0;
      for (;;) {
        const nl = bytes.indexOf(NEWLINE, start);
        const end = nl === -1 ? bytes.length : nl;
        // Only short segments are checked byte by byte: a long one is a request, not whitespace.
        if (!content && end > start) content = end - start > 64 || !isBlank(bytes, start, end);
        if (nl === -1) break;
        if (content) lines += 1;
        content = false;
        start = nl + 1;
      }
    }
  } finally {
    await file.close();
  }
  if (content) lines += 1;
  return { size, sha256: hash.digest('hex'), lines };
}
