// What a trace file (trace/trace-file.ts) says about a run, for the report: its settings, the time
// series, the cooldowns as spans, every 429 with what it did, and a count of every event type.
// A trace cut short by a kill ends at its last whole line; a cooldown still open then is drawn to
// the last timestamp.

import type { RunSample } from '../model/events.js';
import { readJsonl, type JsonlTally } from './jsonl-lines.js';

export interface CooldownSpan {
  gen: number;
  /** Trace times (ms since the run's start). */
  from: number;
  to: number;
  /** Whether the trace saw it end (else it was still open at the trace's last line). */
  ended: boolean;
  waiting: number | null;
  /** Who opened it, and the hint it opened with. */
  openedBy: string | null;
  hintMs: number | null;
  hintSource: string | null;
}

export interface TraceFigures {
  file: JsonlTally & { path: string };
  settings: Record<string, unknown> | null;
  samples: Array<{ t: number } & RunSample>;
  cooldowns: CooldownSpan[];
  /** Every 429: when, and what it did to the cooldown. */
  rateLimits: Array<{ t: number; report: string; custom_id: string }>;
  events: Record<string, number>;
  /** Ceiling changes and thread deaths, as short sentences with their time. */
  notes: Array<{ t: number; text: string }>;
  lastT: number;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function sampleOf(t: number, line: Record<string, unknown>): { t: number } & RunSample {
  return {
    t,
    done: num(line['done']),
    succeeded: num(line['succeeded']),
    failed: num(line['failed']),
    inFlight: num(line['inFlight']),
    limit: num(line['limit']),
    ceiling: num(line['ceiling']),
    requests: num(line['requests']),
    rateLimited: num(line['rateLimited']),
    cooldownOpen: line['cooldownOpen'] === true,
    outage: line['outage'] === true,
    tokens: num(line['tokens']),
    cost: typeof line['cost'] === 'number' ? line['cost'] : null,
  };
}

export async function traceFigures(path: string): Promise<TraceFigures> {
  const figures: TraceFigures = { file: { path, lines: 0, unreadable: 0, tornLastLine: false }, settings: null, samples: [], cooldowns: [], rateLimits: [], events: {}, notes: [], lastT: 0 };
  const open = new Map<number, CooldownSpan>();
  const openers = new Map<number, { custom_id: string | null; hintMs: number | null; hintSource: string | null }>();
  const tally = await readJsonl(path, (line) => {
    const type = str(line['type']) ?? 'unknown';
    const t = num(line['t']);
    figures.lastT = Math.max(figures.lastT, t);
    figures.events[type] = (figures.events[type] ?? 0) + 1;
    const gen = num(line['gen']);
    switch (type) {
      case 'run-started':
        figures.settings = typeof line['settings'] === 'object' && line['settings'] !== null ? (line['settings'] as Record<string, unknown>) : null;
        break;
      case 'sample':
        figures.samples.push(sampleOf(t, line));
        break;
      case 'rate-limited': {
        const report = str(line['report']) ?? 'unknown';
        figures.rateLimits.push({ t, report, custom_id: str(line['custom_id']) ?? '' });
        if (report === 'opened') {
          const opener = { custom_id: str(line['custom_id']), hintMs: typeof line['hintMs'] === 'number' ? line['hintMs'] : null, hintSource: str(line['hintSource']) };
          openers.set(gen, opener);
          const span = open.get(gen);
          if (span) Object.assign(span, { openedBy: opener.custom_id, hintMs: opener.hintMs, hintSource: opener.hintSource });
        }
        break;
      }
      case 'cooldown-opened': {
        if (line['reason'] === 'outage') figures.notes.push({ t, text: 'outage pause: the endpoint is not answering (one probe at a time)' });
        const opener = openers.get(gen);
        const span: CooldownSpan = { gen, from: t, to: t, ended: false, waiting: null, openedBy: opener?.custom_id ?? null, hintMs: opener?.hintMs ?? null, hintSource: opener?.hintSource ?? null };
        open.set(gen, span);
        figures.cooldowns.push(span);
        break;
      }
      case 'cooldown-ended': {
        const span = open.get(gen);
        if (span) {
          span.to = t;
          span.ended = true;
          span.waiting = num(line['waiting']);
          open.delete(gen);
        }
        break;
      }
      case 'ceiling-changed':
        figures.notes.push({ t, text: `AIMD ceiling ${num(line['from'])} → ${num(line['to'])}${line['why'] === 'timeouts' ? ' (attempt timeouts)' : ''}` });
        break;
      case 'thread-died':
        figures.notes.push({ t, text: `thread died under ${str(line['custom_id']) ?? '?'} (${line['rerun'] === true ? 're-run' : 'failed'})` });
        break;
      case 'run-stopping':
        figures.notes.push({ t, text: `run stopping (${str(line['mode']) ?? '?'}): ${str(line['reason']) ?? ''}` });
        break;
      case 'limit-learned':
        figures.notes.push({ t, text: `learned ${str(line['bucket']) ?? '?'} limit ${num(line['perMinute'])}/min` });
        break;
      default:
        break;
    }
  });
  for (const span of open.values()) span.to = figures.lastT;
  figures.file = { path, ...tally };
  return figures;
}
