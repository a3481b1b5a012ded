// The floor plan of src/, checked so it stays true: each folder may import only from folders
// below it (docs/architecture.md draws the same ladder), there are no import circles, and the
// rules that keep the layers honest — threads only in pool/, no HTTP in control/, nothing of
// ours in model/ — hold file by file.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/**
 * Lower floors first. A file may import from its own folder or from a folder on a lower floor.
 * batch-api/ drives whole runs through the provider's Batch API: it uses io/ (input, results
 * file) and run/ (streamBatch, for what it finishes online), and only cli/ and index.ts use it —
 * so it sits on a half floor of its own between run and cli, leaving every other floor as it was.
 */
const FLOORS: Record<string, number> = {
  model: 0,
  control: 1,
  io: 2,
  task: 2,
  trace: 2,
  cache: 2,
  report: 3,
  attempt: 3,
  pool: 4,
  run: 5,
  'batch-api': 5.5,
  // Scale-out across processes (BullMQ + Redis): drives run/ and mirrors Redis into control/; the CLI uses it.
  distributed: 5.5,
  cli: 6,
  'index.ts': 6,
};
const TOP = 6;
/** The simulator is a product of its own: it imports nothing of the engine but model/, and only the top floor imports it. */
const APART = new Set(['sim', 'types']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Import {
  from: string;
  specifier: string;
  /** The imported file, for a relative specifier. */
  target: string | null;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
    const specifier = match[1] ?? match[2];
    if (specifier === undefined) continue;
    const target = specifier.startsWith('.') ? resolve(dirname(file), specifier).replace(/\.js$/, '.ts') : null;
    found.push({ from: file, specifier, target });
  }
  return found;
}

/** The folder a file of src/ lives in ('index.ts' for the one file directly under src/). */
function room(file: string): string {
  const [first] = relative(SRC, file).split('/');
  return first ?? '';
}

const files = sourceFiles(SRC);
const imports = files.flatMap(importsOf);
const name = (file: string) => relative(SRC, file);

describe('the floor plan of src/', () => {
  it('has no file directly under src/ but index.ts, and every folder is on the plan', () => {
    for (const file of files) {
      const where = room(file);
      expect(where in FLOORS || APART.has(where), `${name(file)} is in no known folder`).toBe(true);
    }
  });

  it('imports only from the same folder or a lower one', () => {
    const upward: string[] = [];
    for (const { from, target } of imports) {
      if (target === null) continue;
      const a = room(from);
      const b = room(target);
      if (a === b) continue;
      if (APART.has(a) || APART.has(b)) {
        // Only the top floor (the CLI's embedded simulator) may use the simulator, and the
        // simulator only the bottom floor, model/, which depends on nothing.
        const allowed = (b === 'sim' && FLOORS[a] === TOP) || (a === 'sim' && b === 'model');
        if (!allowed) upward.push(`${name(from)} -> ${name(target)} (sim/ stands apart)`);
        continue;
      }
      if ((FLOORS[b] ?? Infinity) >= (FLOORS[a] ?? -Infinity)) upward.push(`${name(from)} -> ${name(target)}`);
    }
    expect(upward).toEqual([]);
  });

  it('has no import circle', () => {
    const edges = new Map<string, string[]>();
    for (const { from, target } of imports) if (target !== null) edges.set(from, [...(edges.get(from) ?? []), target]);
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...path.slice(path.indexOf(file)), file].map(name).join(' -> '));
        return;
      }
      state.set(file, 'open');
      path.push(file);
      for (const next of edges.get(file) ?? []) visit(next);
      path.pop();
      state.set(file, 'done');
    };
    for (const file of files) visit(file);
    expect(circles).toEqual([]);
  });

  it('lets only pool/ touch worker threads and Piscina', () => {
    const offenders = imports
      .filter(({ specifier }) => ['node:worker_threads', 'piscina', 'comlink'].some((m) => specifier === m || specifier.startsWith(`${m}/`)))
      .filter(({ from }) => room(from) !== 'pool')
      .map(({ from }) => name(from));
    expect(offenders).toEqual([]);
  });

  it('keeps control/ free of HTTP, and model/ free of anything of ours outside it', () => {
    const http = imports.filter(({ from, specifier }) => room(from) === 'control' && /^(openai|undici|node:https?)(\/|$)/.test(specifier));
    expect(http.map(({ from, specifier }) => `${name(from)} imports ${specifier}`)).toEqual([]);
    const model = imports.filter(({ from, target }) => room(from) === 'model' && target !== null && room(target) !== 'model');
    expect(model.map(({ from, target }) => `${name(from)} -> ${name(target ?? '')}`)).toEqual([]);
  });
});
