// The trace: a JSONL file of the run's events (model/events.ts), one a line, each stamped with
// `t`, milliseconds since the run started on the main thread's monotonic clock (performance.now),
// so lines are in the order the main thread saw them and `t` never goes back.
//
// This folder (trace/) owns the trace file and the time series (series.ts). It sits on floor 2,
// beside io/: it imports only model/ and Node's fs. What it records is handed to it by run/.
//
// Writes are buffered and flushed at least every FLUSH_MS (and at the end): an event costs a
// JSON.stringify and an array push, never a system call on the event's path. A killed run loses at
// most the last FLUSH_MS of its trace; the report reads a torn last line as the end.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { BatchEvent } from '../model/events.js';
import { redactAll } from '../model/redact.js';

const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;

/** One line of the trace: an event and when the main thread saw it. */
export type TraceLine = { t: number } & BatchEvent;

export class TraceFile {
  readonly path: string;
  readonly #fd: number;
  readonly #origin: number;
  readonly #secrets: readonly string[];
  #buffer: string[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Opens (truncates) `path` now, so an unwritable path fails before the run starts. No one of `secrets` reaches the file. */
  constructor(path: string, secrets: readonly string[], origin = performance.now()) {
    this.path = path;
    this.#fd = openSync(path, 'w');
    this.#origin = origin;
    this.#secrets = secrets;
  }

  record(event: BatchEvent): void {
    if (this.#closed) return;
    const t = Math.round((performance.now() - this.#origin) * 100) / 100;
    const line = `${JSON.stringify({ t, ...event })}\n`;
    this.#buffer.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= FLUSH_BYTES) this.flush();
    else if (this.#timer === undefined) this.#timer = setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length === 0) return;
    // Redacted as a whole: no event carries a secret, and this makes sure none ever does.
    const bytes = Buffer.from(redactAll(this.#buffer.join(''), this.#secrets), 'utf8');
    this.#buffer = [];
    this.#bytes = 0;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.#fd, bytes, offset, bytes.length - offset);
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    closeSync(this.#fd);
  }
}
