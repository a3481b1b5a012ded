// The results file: one line per item in the OpenAI Batch output format, with batch-llm's own
// facts under one extra key, appended to the file descriptor before the item counts as done. The
// same file is the checkpoint that `--resume` reads (checkpoint.ts).

import { randomFillSync } from 'node:crypto';
import { closeSync, fstatSync, fsync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { InputRecord } from './input.js';
import type { Endpoint } from '../model/endpoint.js';
import type { ErrorCategory, ReadyLine } from '../model/outcome.js';
import type { Usage } from '../model/usage.js';
import type { ItemResult } from '../model/item-result.js';
import { emptyUsage } from '../model/usage.js';
import { isRecord } from '../model/records.js';

/** batch-llm's facts about one item. */
export interface ResultFacts {
  /** The item's line in the input file (1-based), when known. */
  line: number | null;
  /** Requests sent for the item, rate-limited ones included. */
  attempts: number;
  /** How many of those were answered with a rate limit. */
  rate_limited: number;
  /** How many answers failed the task's validation and were re-asked. */
  invalid_outputs: number;
  /** From the item's first gate entry to its outcome, in ms. */
  latency_ms: number;
  /** Tokens over all attempts, failed ones included. */
  usage: Usage;
  /** Answers cut off at max_tokens (finish_reason "length") and re-asked or failed; only when any. */
  cut_off?: number;
  /** Attempts that failed during an outage of the endpoint (not counted against maxAttempts); only when any. */
  outage_failures?: number;
  /** The task's result (its validated, post-processed answer); only with a task, on success. */
  value?: unknown;
  /** The task's score of the value (task.score); only with a scoring task, on success. */
  score?: number | boolean;
  /** The input record's `--group-by` field, as text; only with a score. */
  group?: string;
  /** The answer came from the response cache: no request was sent for it. */
  cached?: true;
  /** The item's endpoint (completions, embeddings, responses); absent for chat. */
  endpoint?: Endpoint;
  /** Tokens of cached answers, saved rather than spent. */
  saved_usage?: Usage;
}

/** One line of the results file (OpenAI Batch output format + `batch_llm`). */
export interface ResultLine {
  id: string;
  /** null only for an input line that had no usable custom_id (missing, not a string, a repeat). */
  custom_id: string | null;
  /** The last HTTP response, or null when none came (timeout, reset, invalid input). */
  response: { status_code: number; request_id: string | null; body: unknown } | null;
  error: { code: ErrorCategory; message: string } | null;
  batch_llm: ResultFacts;
}

/** Random bytes for 256 line ids at a time: one fill of the pool instead of a UUID (and its dashes) per line. */
const ID_BYTES = 16;
const idPool = Buffer.alloc(ID_BYTES * 256);
let idOffset = idPool.length;

/** A line's `id`: batch_req_ and 32 random hex digits (128 bits), like the Batch API's. */
function requestId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  idOffset += ID_BYTES;
  return `batch_req_${idPool.toString('hex', idOffset - ID_BYTES, idOffset)}`;
}

/**
 * An error response's body as the endpoint sent it: `{"error": {…}}`. The engine passes the inner
 * error object (what the openai client exposes as `error.error`); wrap it back once.
 */
function errorBody(body: unknown): unknown {
  if (body === null || body === undefined) return null;
  if (isRecord(body) && Object.keys(body).length === 1 && isRecord(body['error'])) return body;
  return { error: body };
}

/** The line for an item the engine ran. */
export function resultLine(result: ItemResult, line: number | null): ResultLine {
  const { stats } = result;
  const facts: ResultFacts = {
    line,
    attempts: stats.attempts,
    rate_limited: stats.rateLimited,
    invalid_outputs: stats.invalidOutputs,
    latency_ms: Math.round(stats.latencyMs),
    usage: { ...stats.usage },
  };
  if (stats.cutOff !== undefined && stats.cutOff > 0) facts.cut_off = stats.cutOff;
  if (stats.outageFailures !== undefined && stats.outageFailures > 0) facts.outage_failures = stats.outageFailures;
  if (stats.saved) facts.saved_usage = { ...stats.saved };
  if (stats.endpoint !== undefined) facts.endpoint = stats.endpoint;
  if (result.ok) {
    if (result.value !== undefined) facts.value = result.value;
    if (result.score !== undefined) facts.score = result.score;
    if (result.group !== undefined) facts.group = result.group;
    if (result.cached) facts.cached = true;
    return {
      id: requestId(),
      custom_id: result.custom_id,
      response: { status_code: result.status, request_id: result.requestId, body: result.body },
      error: null,
      batch_llm: facts,
    };
  }
  const { error } = result;
  return {
    id: requestId(),
    custom_id: result.custom_id,
    response:
      error.status === null
        ? null
        : // A 2xx whose answer failed (invalid_output) keeps its body as it came; an error response is `{"error": …}`.
          { status_code: error.status, request_id: result.requestId, body: error.status < 300 ? result.body : errorBody(result.body) },
    error: { code: error.category, message: error.message },
    batch_llm: facts,
  };
}

/** The line for an input line that could not be run. */
export function invalidInputLine(record: Extract<InputRecord, { kind: 'invalid' }>): ResultLine {
  return {
    id: requestId(),
    custom_id: record.custom_id,
    response: null,
    error: { code: 'invalid_input', message: record.message },
    batch_llm: { line: record.line, attempts: 0, rate_limited: 0, invalid_outputs: 0, latency_ms: 0, usage: emptyUsage() },
  };
}

/** The line as written: JSON and a newline. */
export function serializeLine(line: ResultLine): string {
  return `${JSON.stringify(line)}\n`;
}

/** `,"key":` and the value's JSON, or nothing where JSON.stringify leaves the key out (undefined, a function). */
function member(key: string, json: string | undefined): string {
  return json === undefined ? '' : `,"${key}":${json}`;
}

/** A number as JSON.stringify writes it (NaN and ±Infinity as null). */
function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * The line for an item the engine ran, as text made before its input line number is known (in
 * the item's worker thread): `joinLine(readyLine(result), n)` is `serializeLine(resultLine(result, n))`.
 * `batch_llm` is the line's last key and `line` its first, so the number goes between two pieces.
 *
 * Written out key by key rather than as JSON.stringify(resultLine(…)) cut in two: only the parts
 * that come from outside — the answer, the task's value, ids and messages — go through
 * JSON.stringify, and a value that is the answer itself (a task without parse) reuses the answer's
 * JSON instead of writing it twice: 1.5–2× less time a line for such a task, 1.04–1.15× for one
 * whose value is parsed (benchmarks/results-line.ts; benchmarks/README.md, "Tenth pass"). The key
 * order and the rules for optional keys are resultLine's; tests/io/output.test.ts holds the two
 * to the same text.
 */
export function readyLine(result: ItemResult): ReadyLine {
  const { stats } = result;
  let response: string;
  let error: string;
  let bodyJson: string | undefined;
  if (result.ok) {
    bodyJson = JSON.stringify(result.body);
    response = `{"status_code":${numberJson(result.status)},"request_id":${JSON.stringify(result.requestId)}${member('body', bodyJson)}}`;
    error = 'null';
  } else {
    const failure = result.error;
    response =
      failure.status === null
        ? 'null'
        : `{"status_code":${numberJson(failure.status)},"request_id":${JSON.stringify(result.requestId)}${member('body', JSON.stringify(failure.status < 300 ? result.body : errorBody(result.body)))}}`;
    error = `{"code":${JSON.stringify(failure.category)},"message":${JSON.stringify(failure.message)}}`;
  }
  const before = `{"id":"${requestId()}","custom_id":${JSON.stringify(result.custom_id)},"response":${response},"error":${error},"batch_llm":{"line":`;
  let facts =
    `,"attempts":${numberJson(stats.attempts)},"rate_limited":${numberJson(stats.rateLimited)},"invalid_outputs":${numberJson(stats.invalidOutputs)}` +
    `,"latency_ms":${numberJson(Math.round(stats.latencyMs))},"usage":${JSON.stringify(stats.usage)}`;
  if (stats.cutOff !== undefined && stats.cutOff > 0) facts += `,"cut_off":${numberJson(stats.cutOff)}`;
  if (stats.outageFailures !== undefined && stats.outageFailures > 0) facts += `,"outage_failures":${numberJson(stats.outageFailures)}`;
  if (stats.saved) facts += `,"saved_usage":${JSON.stringify(stats.saved)}`;
  if (stats.endpoint !== undefined) facts += `,"endpoint":${JSON.stringify(stats.endpoint)}`;
  if (result.ok) {
    if (result.value !== undefined) facts += member('value', result.value === result.body ? bodyJson : JSON.stringify(result.value));
    if (result.score !== undefined) facts += member('score', JSON.stringify(result.score));
    if (result.group !== undefined) facts += `,"group":${JSON.stringify(result.group)}`;
    if (result.cached) facts += ',"cached":true';
  }
  return { text: `${before}${facts}}}`, at: before.length };
}

/** A ready line with its input line number in, as written (with a newline). */
export function joinLine(ready: ReadyLine, line: number | null): string {
  return `${ready.text.slice(0, ready.at)}${String(line)}${ready.text.slice(ready.at)}\n`;
}

/** A write to a ResultFile that failed: its error, and how many of the lines given are in the file. */
export interface AppendFailure {
  error: NodeJS.ErrnoException;
  linesWritten: number;
}

const NEWLINE = 0x0a;

/** Newlines among the first `end` bytes. */
function countLines(bytes: Buffer, end: number): number {
  let lines = 0;
  for (let at = bytes.indexOf(NEWLINE); at !== -1 && at < end; at = bytes.indexOf(NEWLINE, at + 1)) lines += 1;
  return lines;
}

/**
 * An append-only file. `append` returns once the bytes are in the kernel (a `kill -9` of this
 * process cannot lose them). Synchronous on purpose: a line is a few hundred bytes and the write
 * takes microseconds, and a result must never count as done while its line sits in a user-space
 * buffer. A caller with many lines at once gives them to `appendLines` together: one system call
 * for them all (a write costs ~7 µs of the main thread's time here, more than making the line). With `fsync` the lines also reach the disk (a power cut cannot lose them either) in
 * group commits off the event loop: one fsync at a time on libuv's thread pool covers every line
 * appended before it began, and the main thread — which also ends cooldowns and hands out items —
 * never waits for the disk. `close` syncs what is left.
 */
export class ResultFile {
  readonly path: string;
  readonly #fd: number;
  readonly #fsync: boolean;
  #closed = false;
  /** The file's size: where the next line starts. One writer per file (the run lock). */
  #size: number;
  /** An fsync is running; lines appended meanwhile wait for the next. */
  #syncing = false;
  #dirty = false;
  #syncError: NodeJS.ErrnoException | null = null;

  constructor(path: string, options: { fsync?: boolean } = {}) {
    this.path = path;
    this.#fd = openSync(path, 'a');
    this.#size = fstatSync(this.#fd).size;
    this.#fsync = options.fsync ?? false;
  }

  /**
   * Appends a line, or throws the write's error (ENOSPC, EFBIG …) with the file cut back to where
   * the line began: a line is in the file whole or not at all, so the file stays resumable.
   */
  append(text: string): void {
    const failed = this.appendLines(text);
    if (failed !== null) throw failed.error;
  }

  /**
   * Appends whole lines (each ending in "\n", none inside) with one write: null once they are all
   * in the kernel. A write that fails (ENOSPC, EFBIG …) cuts the file back to the end of the last
   * whole line that got in and says how many that is: a line is in the file whole or not at all,
   * so the file stays resumable, and the lines that fitted need not be asked for again.
   */
  appendLines(text: string): AppendFailure | null {
    // A background fsync that failed fails the next append, like a failed write.
    if (this.#syncError !== null) return { error: this.#syncError, linesWritten: 0 };
    const length = Buffer.byteLength(text, 'utf8');
    let offset = 0;
    let bytes: Buffer | null = null;
    try {
      // The string goes to the file as it is (encoded outside the JS heap: no Buffer per write).
      // writeSync may write less than asked (a full disk, a signal): the rest goes as bytes.
      offset = writeSync(this.#fd, text);
      if (offset < length) {
        bytes = Buffer.from(text, 'utf8');
        while (offset < length) offset += writeSync(this.#fd, bytes, offset, length - offset);
      }
    } catch (error) {
      // Keep the whole lines that got in; cut the torn one off.
      let whole = 0;
      let lines = 0;
      if (offset > 0) {
        const encoded = bytes ?? Buffer.from(text, 'utf8');
        whole = encoded.lastIndexOf(NEWLINE, offset - 1) + 1;
        lines = countLines(encoded, whole);
      }
      if (whole < offset) {
        try {
          ftruncateSync(this.#fd, this.#size + whole);
        } catch {
          // Could not cut it back: --resume sets the torn tail aside instead.
        }
      }
      this.#size += whole;
      // The lines kept count as written: with fsync, they go to the disk like any others.
      if (whole > 0) this.#wrote();
      return { error: error as NodeJS.ErrnoException, linesWritten: lines };
    }
    this.#size += length;
    this.#wrote();
    return null;
  }

  /** Lines went into the file: with fsync, the next group commit covers them. */
  #wrote(): void {
    if (!this.#fsync) return;
    this.#dirty = true;
    this.#sync();
  }

  #sync(): void {
    if (this.#syncing || !this.#dirty) return;
    this.#syncing = true;
    this.#dirty = false;
    fsync(this.#fd, (error) => {
      this.#syncing = false;
      if (error) this.#syncError ??= error;
      if (this.#closed) closeQuietly(this.#fd);
      else this.#sync();
    });
  }

  /**
   * Closes the file. With fsync, what is not known to be on the disk yet is synced first, here
   * and now (the end of a run may wait for its last lines). Returns the error of a sync that
   * failed — then or earlier, unreported — or null: the lines are in the file, but a power cut
   * could take them, so a caller treats it like a failed write. Never throws: a run's end must
   * still record how it ended.
   */
  close(): NodeJS.ErrnoException | null {
    if (this.#closed) return null;
    this.#closed = true;
    if (this.#fsync && (this.#dirty || this.#syncing)) {
      try {
        fsyncSync(this.#fd);
      } catch (error) {
        this.#syncError ??= error as NodeJS.ErrnoException;
      }
      this.#dirty = false;
    }
    // An fsync on the pool still uses the descriptor: it closes the file when it is done.
    if (!this.#syncing) closeQuietly(this.#fd);
    return this.#syncError;
  }
}

/** Every byte went in with writeSync and every sync has reported: a failed close loses nothing. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing to do
  }
}
