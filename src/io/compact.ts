// Compacting a results file: one line per item, its final outcome, in input order. A resumed file
// holds several lines per custom_id (an aborted or failed line, then the line of the run that
// finished it); a compacted one holds exactly one.
//
// The final outcome of an id is its last success if it has one (an answer paid for is never
// dropped), else its last line. Input order comes from the lines themselves (`batch_llm.line`,
// the item's input line), so the input file is not needed. Lines without a custom_id (invalid
// input without a usable id) are kept one per input line, the last; lines with neither come last,
// in file order. Unreadable lines and a torn last line are skipped and counted, never repaired:
// the source file is only read.
//
// Two passes with little memory: the first notes, per id, where its chosen line is (offset and
// length); the second copies those byte ranges, sorted by input line, into a temporary file that
// is then renamed over the output, so an interrupted compaction leaves no half-written file.

import { closeSync, createReadStream, openSync, readSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { readResultLine } from './result-line.js';

const NEWLINE = 0x0a;

interface Chosen {
  offset: number;
  length: number;
  ok: boolean;
  /** The input line, or Infinity when the line names none (sorted last). */
  line: number;
  /** The position of its first line in the file: ties keep file order. */
  first: number;
}

export interface CompactReport {
  /** Whole, readable lines read. */
  read: number;
  /** Lines written: one per item. */
  written: number;
  /** Of those, successes. */
  succeeded: number;
  /** Unreadable lines skipped (a torn last line included). */
  unreadable: number;
}

/** Writes `source`'s final outcomes to `target` (replaced atomically). The caller checks that they are two files. */
export async function compactResults(source: string, target: string): Promise<CompactReport> {
  const chosen = new Map<string, Chosen>();
  const loose: Chosen[] = [];
  const report: CompactReport = { read: 0, written: 0, succeeded: 0, unreadable: 0 };
  let offset = 0;
  let partial: Buffer = Buffer.alloc(0);
  let row = 0;
  const take = (bytes: Buffer, at: number): void => {
    if (bytes.toString('latin1').trim() === '') return;
    const parsed = readResultLine(bytes);
    if (parsed === null) {
      report.unreadable += 1;
      return;
    }
    report.read += 1;
    row += 1;
    const entry: Chosen = { offset: at, length: bytes.length + 1, ok: parsed.verdict === 'ok', line: parsed.line ?? Infinity, first: row };
    const key = parsed.id !== null ? `id:${parsed.id}` : parsed.line !== null ? `line:${parsed.line}` : null;
    if (key === null) {
      loose.push(entry);
      return;
    }
    const before = chosen.get(key);
    if (before === undefined) chosen.set(key, entry);
    // A later line wins, except a failure over a success.
    else if (entry.ok || !before.ok) chosen.set(key, { ...entry, first: before.first });
  };
  for await (const chunk of createReadStream(source, { highWaterMark: 1 << 20 })) {
    const bytes = partial.length === 0 ? (chunk as Buffer) : Buffer.concat([partial, chunk as Buffer]);
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
      take(bytes.subarray(start, nl), offset + start);
      start = nl + 1;
    }
    partial = Buffer.from(bytes.subarray(start));
    offset += start;
  }
  // A last line without its newline is a torn write (a killed run): not an outcome.
  if (partial.toString('latin1').trim() !== '') report.unreadable += 1;

  const order = [...chosen.values(), ...loose].sort((a, b) => a.line - b.line || a.first - b.first);
  const temporary = `${target}.${process.pid}.tmp`;
  const input = openSync(source, 'r');
  const output = openSync(temporary, 'w');
  try {
    let buffer = Buffer.alloc(1 << 20);
    let used = 0;
    const flush = (): void => {
      let done = 0;
      while (done < used) done += writeSync(output, buffer, done, used - done);
      used = 0;
    };
    for (const entry of order) {
      if (entry.length > buffer.length - used) {
        flush();
        if (entry.length > buffer.length) buffer = Buffer.alloc(entry.length);
      }
      // The range was read whole in the first pass; the file is only appended to meanwhile.
      let got = 0;
      while (got < entry.length) {
        const n = readSync(input, buffer, used + got, entry.length - got, entry.offset + got);
        if (n === 0) throw new Error(`${source} changed while it was compacted (a line at byte ${entry.offset} is gone)`);
        got += n;
      }
      used += entry.length;
      report.written += 1;
      if (entry.ok) report.succeeded += 1;
    }
    flush();
  } catch (error) {
    closeSync(output);
    closeSync(input);
    await rm(temporary, { force: true });
    throw error;
  }
  closeSync(output);
  closeSync(input);
  await rename(temporary, target);
  return report;
}
