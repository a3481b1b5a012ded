// Resume: the results file is the checkpoint. Reading it back tells which custom_ids already
// succeeded (their last line has `"error": null`); everything else runs again and appends.
//
// A `kill -9` (or a power cut) can leave the file ending in a torn line: no trailing newline, or
// bytes that are not JSON (a filesystem may even show a zero-filled tail after a crash). Such a
// tail is copied to a side file first and only then cut off, so no byte is ever lost and the file
// again ends on a whole line. Unreadable lines in the middle (followed by whole lines) cannot come
// from a crash of ours; they are reported and ignored — the item they named, if any, runs again.
//
// Next to the results sits `<out>.meta.json`, the run fingerprint: which endpoint, model, task
// and input file produced them. Resuming with a different fingerprint is refused unless forced.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { isRecord } from '../model/records.js';
import { LineSet } from './line-set.js';
import { readResultLine } from './result-line.js';

const NEWLINE = 0x0a;

export interface TornTail {
  /** Bytes moved out of the results file. */
  bytes: number;
  /** Where they were moved. */
  sidePath: string;
}

export interface Checkpoint {
  /** custom_ids whose last line succeeded: skipped on resume. */
  succeeded: Set<string>;
  /** custom_ids whose last line failed (not counting invalid-input or aborted lines): they run again. */
  failed: number;
  /** custom_ids whose last line is `aborted` (a stop came while they waited or ran): they run again. */
  aborted: number;
  /**
   * Input lines that have a line here (`batch_llm.line`). The input's other lines have none: a
   * stopped run never read them (see RunEnd), and resume runs them.
   */
  inputLines: LineSet;
  /** Whole, readable lines. */
  lines: number;
  /** 1-based numbers of unreadable lines that whole lines follow; ignored. */
  corrupt: number[];
  /** The torn tail that was set aside, or null when the file ended on a whole line. */
  torn: TornTail | null;
}

function sideFileName(path: string, now: Date): string {
  return `${path}.torn-${now.toISOString().replaceAll(':', '').replace(/\.\d+Z$/, 'Z')}`;
}

/**
 * Copies bytes [start, end) of `path` to a new side file and resolves with its name. Two repairs
 * within one second (the name's resolution) get `-2`, `-3` … rather than failing on the first's
 * file: a side file is never overwritten.
 */
async function setAside(path: string, now: Date, start: number, end: number): Promise<string> {
  const base = sideFileName(path, now);
  for (let n = 1; ; n += 1) {
    const sidePath = n === 1 ? base : `${base}-${n}`;
    try {
      await pipeline(createReadStream(path, { start, end: end - 1 }), createWriteStream(sidePath, { flags: 'wx' }));
      return sidePath;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/**
 * Reads the results file at `path` (streaming; memory grows only with the succeeded set) and
 * repairs a torn tail. A missing file reads as an empty checkpoint.
 */
export async function readCheckpoint(path: string, now: Date = new Date()): Promise<Checkpoint> {
  const checkpoint: Checkpoint = { succeeded: new Set(), failed: 0, aborted: 0, inputLines: new LineSet(), lines: 0, corrupt: [], torn: null };
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return checkpoint;
    throw error;
  }
  // The verdict of each unfinished id's last line: true when it is `aborted`.
  const unfinished = new Map<string, boolean>();
  let offset = 0; // file offset of `partial`'s first byte
  let partial: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  let wholeEnd = 0; // offset just past the last readable line
  let unreadable: number[] = []; // unreadable lines since the last readable one

  const take = (bytes: Buffer, end: number): void => {
    lineNo += 1;
    if (bytes.toString('latin1').trim() === '') {
      // A blank line decides nothing; it ends the whole part only if nothing unreadable precedes it.
      if (unreadable.length === 0) wholeEnd = end;
      return;
    }
    const line = readResultLine(bytes);
    if (line === null) {
      unreadable.push(lineNo);
      return;
    }
    checkpoint.lines += 1;
    checkpoint.corrupt.push(...unreadable);
    unreadable = [];
    wholeEnd = end;
    if (line.line !== null) checkpoint.inputLines.add(line.line);
    if (line.id === null || line.verdict === 'ignored') return;
    if (line.verdict === 'ok') {
      checkpoint.succeeded.add(line.id);
      unfinished.delete(line.id);
    } else {
      checkpoint.succeeded.delete(line.id);
      unfinished.set(line.id, line.verdict === 'aborted');
    }
  };

  // Read only up to the size seen at the start, in case something still appends.
  for await (const chunk of createReadStream(path, { end: Math.max(0, size - 1), highWaterMark: 1 << 20 })) {
    const bytes = partial.length === 0 ? (chunk as Buffer) : Buffer.concat([partial, chunk as Buffer]);
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
      take(bytes.subarray(start, nl), offset + nl + 1);
      start = nl + 1;
    }
    partial = Buffer.from(bytes.subarray(start));
    offset += start;
  }
  for (const aborted of unfinished.values()) {
    if (aborted) checkpoint.aborted += 1;
    else checkpoint.failed += 1;
  }

  if (wholeEnd < size) {
    // Everything after the last readable line: a line without its newline and/or unreadable lines.
    const sidePath = await setAside(path, now, wholeEnd, size);
    // Only once the bytes are safe in the side file is the results file cut back.
    await truncate(path, wholeEnd);
    checkpoint.torn = { bytes: size - wholeEnd, sidePath };
  }
  return checkpoint;
}

// ---- run fingerprint ----------------------------------------------------------------------------

/** What identifies a run, so that a resume continues the same one. Holds no secret. */
export interface RunFingerprint {
  /** The endpoint without credentials (model/redact.ts endpointIdentity), or "builtin-simulator" for the embedded default. */
  base_url: string;
  model: string | null;
  /** SHA-256 of the task module file, when there is one. */
  task_sha256: string | null;
  /** `--endpoint`, the endpoint of lines that name no url, when not "chat" (absent: chat). */
  endpoint?: string;
  /** The input file: its path as resolved (informational), size and SHA-256 of its contents. */
  input: { path: string; size: number; sha256: string };
}

/**
 * How the last run on the results file ended, kept under `end` in the meta file. Absent while a
 * run is going, and after one that was killed (or written before this was recorded).
 *
 * A stopped run stops reading its input (it does not write an `aborted` line for every item it
 * never reached): it records the last input line it read. Every input line up to there has a
 * line in the results file; the lines after it that have none are `not_started`, and --resume
 * runs them like the aborted ones.
 */
export type RunEnd =
  | { state: 'complete' }
  | {
      state: 'stopped';
      reason: string;
      /** The last input line (1-based) the run read; 0 when it read none. */
      after_line: number;
      /** Non-blank input lines (as the progress total counts them); null for a pipe. */
      input_lines: number | null;
      /** Input lines with no line in the results file; null for a pipe. */
      not_started: number | null;
    };

export interface RunMeta {
  /** Version of this file's format. */
  format: 1;
  fingerprint: RunFingerprint;
  /** When this fingerprint was (last) written, ISO 8601. */
  written_at: string;
  /** How the run ended (only once it has). */
  end?: RunEnd;
}

export const BUILTIN_SIMULATOR = 'builtin-simulator';

/** `<out>.meta.json`. */
export function metaPathFor(outPath: string): string {
  return `${outPath}.meta.json`;
}

/** SHA-256 of a file's contents, streamed. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * How `now` differs from `then`, one phrase per difference; empty when they match. The input
 * file is compared by size and content, not by path: a file moved elsewhere is the same input.
 */
export function fingerprintDifferences(then: RunFingerprint, now: RunFingerprint): string[] {
  const differences: string[] = [];
  const show = (value: string | null): string => (value === null ? 'none' : JSON.stringify(value));
  if (then.base_url !== now.base_url) differences.push(`endpoint ${show(then.base_url)} then, ${show(now.base_url)} now`);
  if (then.model !== now.model) differences.push(`model ${show(then.model)} then, ${show(now.model)} now`);
  if (then.task_sha256 !== now.task_sha256) differences.push('the task file changed');
  if ((then.endpoint ?? 'chat') !== (now.endpoint ?? 'chat')) differences.push(`--endpoint ${then.endpoint ?? 'chat'} then, ${now.endpoint ?? 'chat'} now`);
  if (then.input.size !== now.input.size || then.input.sha256 !== now.input.sha256) {
    differences.push(`the input file changed (${then.input.path}, ${then.input.size} bytes then; ${now.input.path}, ${now.input.size} bytes now)`);
  }
  return differences;
}

function isRunEnd(value: unknown): value is RunEnd {
  if (!isRecord(value)) return false;
  if (value['state'] === 'complete') return true;
  const count = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0);
  return value['state'] === 'stopped' && typeof value['reason'] === 'string' && count(value['after_line']) && count(value['input_lines']) && count(value['not_started']);
}

export type MetaRead = { kind: 'found'; meta: RunMeta } | { kind: 'missing' } | { kind: 'unreadable'; reason: string };

function isFingerprint(value: unknown): value is RunFingerprint {
  if (!isRecord(value) || !isRecord(value['input'])) return false;
  const input = value['input'];
  return (
    typeof value['base_url'] === 'string' &&
    (typeof value['model'] === 'string' || value['model'] === null) &&
    (typeof value['task_sha256'] === 'string' || value['task_sha256'] === null) &&
    typeof input['path'] === 'string' &&
    typeof input['size'] === 'number' &&
    typeof input['sha256'] === 'string'
  );
}

export async function readMeta(path: string): Promise<MetaRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', reason: error instanceof Error ? error.message : String(error) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unreadable', reason: 'not JSON' };
  }
  if (!isRecord(value) || value['format'] !== 1 || !isFingerprint(value['fingerprint'])) {
    return { kind: 'unreadable', reason: 'not a batch-llm run fingerprint' };
  }
  const meta: RunMeta = { format: 1, fingerprint: value['fingerprint'], written_at: String(value['written_at']) };
  if (isRunEnd(value['end'])) meta.end = value['end'];
  return { kind: 'found', meta };
}

/**
 * Records how the run ended in the meta file at `path`, keeping everything else it holds (the
 * fingerprint, a Batch API run's state). Atomic like writeMeta.
 */
export async function writeRunEnd(path: string, end: RunEnd): Promise<void> {
  let meta: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (isRecord(value)) meta = value;
  } catch {
    // No meta file (or an unreadable one): the end alone is still worth keeping.
  }
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...meta, end }, null, 2)}\n`);
  await rename(temporary, path);
}

/** Writes the fingerprint atomically (a temporary file renamed over the old one). */
export async function writeMeta(path: string, fingerprint: RunFingerprint, now: Date = new Date()): Promise<void> {
  const meta: RunMeta = { format: 1, fingerprint, written_at: now.toISOString() };
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(meta, null, 2)}\n`);
  await rename(temporary, path);
}
