// Reading a JSONL file that a run may still be writing, or that a killed run left behind: every
// complete line is parsed; a last line without its newline (torn by the kill) is set aside and
// counted, never an error; a complete line that is not JSON is counted as unreadable.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface JsonlTally {
  /** Lines read as JSON objects. */
  lines: number;
  /** Complete lines that were not JSON objects. */
  unreadable: number;
  /** Whether the last line had no newline and was not valid JSON (a killed run's torn write). */
  tornLastLine: boolean;
}

/** Calls `each` with every JSON object line of `path`, in order; resolves with the tally. */
export async function readJsonl(path: string, each: (record: Record<string, unknown>) => void): Promise<JsonlTally> {
  const tally: JsonlTally = { lines: 0, unreadable: 0, tornLastLine: false };
  const stream = createReadStream(path, 'utf8');
  // Whether the file ends with a newline decides what a bad last line is: torn, or unreadable.
  let endsWithNewline = true;
  stream.on('data', (chunk) => {
    if (typeof chunk === 'string' && chunk.length > 0) endsWithNewline = chunk.endsWith('\n');
  });
  let pendingBad = false;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (pendingBad) tally.unreadable += 1;
    pendingBad = false;
    if (text.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      pendingBad = true;
      continue;
    }
    if (typeof record === 'object' && record !== null && !Array.isArray(record)) {
      tally.lines += 1;
      each(record as Record<string, unknown>);
    } else {
      tally.unreadable += 1;
    }
  }
  if (pendingBad) {
    if (endsWithNewline) tally.unreadable += 1;
    else tally.tornLastLine = true;
  }
  return tally;
}
