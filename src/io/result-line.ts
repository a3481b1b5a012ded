// One line of a results file, read back: its custom_id, its input line and its verdict. Resume
// (checkpoint.ts) and compaction (compact.ts) judge lines by this one reading.

import { isRecord } from '../model/records.js';

export type Verdict = 'ok' | 'failed' | 'aborted' | 'ignored';

export interface ResultLine {
  id: string | null;
  /** The item's input line (`batch_llm.line`), or null when the line names none. */
  line: number | null;
  verdict: Verdict;
}

/** A results line's verdict: `ok`, `failed`, `aborted`, `ignored` (an invalid-input line), or null if unreadable. */
export function readResultLine(bytes: Buffer): ResultLine | null {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (!isRecord(value) || !('error' in value)) return null;
  const id = value['custom_id'];
  if (typeof id !== 'string' && id !== null) return null;
  const facts = value['batch_llm'];
  const at = isRecord(facts) && typeof facts['line'] === 'number' ? facts['line'] : null;
  const error = value['error'];
  if (error === null) return { id, line: at, verdict: 'ok' };
  // Invalid-input lines never decide an item's fate: a repeated custom_id's line must not
  // overrule the success of the line that owns the id. Invalid lines are re-checked on resume.
  if (isRecord(error) && error['code'] === 'invalid_input') return { id, line: at, verdict: 'ignored' };
  return { id, line: at, verdict: isRecord(error) && error['code'] === 'aborted' ? 'aborted' : 'failed' };
}
