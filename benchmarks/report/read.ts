// Reading benchmarks/results.json: the file as typed data, and safe accessors for its rows, whose
// shape differs by scenario (each benchmark script writes its own fields). Nothing here formats
// or draws; a missing or mistyped field reads as null / '' so one bad entry never stops the report.
import { readFileSync } from 'node:fs';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSpread(value: unknown): value is Spread {
  return isRecord(value) && typeof value['median'] === 'number' && typeof value['min'] === 'number' && typeof value['max'] === 'number';
}

export function spread(row: Json, key: string): Spread | null {
  const value = row[key];
  return isSpread(value) ? value : null;
}

export function num(row: Json, key: string): number | null {
  const value = row[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function str(row: Json, key: string): string {
  const value = row[key];
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
}

export function rowsOf(result: Json): Json[] {
  const rows = result['rows'];
  return Array.isArray(rows) ? rows.filter(isRecord) : [];
}

/** results.json as the report reads it. */
export interface Results {
  /** The whole file (for `updated`). */
  data: Json;
  machine: Json;
  /** One entry per scenario name, each with a `full` and/or a `quick` result. */
  scenarios: Json;
}

export function readResults(resultsPath: string): Results {
  const data: unknown = JSON.parse(readFileSync(resultsPath, 'utf8'));
  if (!isRecord(data) || !isRecord(data['scenarios'])) throw new Error(`${resultsPath} holds no scenarios`);
  return { data, machine: isRecord(data['machine']) ? data['machine'] : {}, scenarios: data['scenarios'] };
}

/** A scenario's result to show: the full run if there is one, else the quick one. */
export function shownResult(entry: unknown): Json | null {
  if (!isRecord(entry)) return null;
  return isRecord(entry['full']) ? entry['full'] : isRecord(entry['quick']) ? entry['quick'] : null;
}
