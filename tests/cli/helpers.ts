// Helpers for the CLI's end-to-end tests: build the package once, spawn the built bin as a real
// process, and read what it wrote.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ResultLine } from '../../src/io/output.js';
import type { RunEnd } from '../../src/io/checkpoint.js';
import { tempDir as newTempDir } from '../helpers/temp-dir.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The packaged bin, as package.json maps `batch-llm`. */
export const BIN = join(ROOT, 'dist/src/cli/main.js');

/** Builds dist/ as the package's own build does: tsc -p tsconfig.build.json, then the bundles of the two entries (scripts/bundle.mjs). */
export async function build(): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
    await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/bundle.mjs')], { cwd: ROOT });
  } catch (error) {
    const { stdout } = error as { stdout?: string };
    throw new Error(`npm run build failed:\n${stdout ?? String(error)}`);
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a spawned CLI: this one without any OPENAI_* variable, plus `env`. */
function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OPENAI_')) clean[key] = value;
  return { ...clean, ...env };
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Piped to the CLI's standard input (else it has none). */
  stdin?: string;
  /** Flags for node itself, before the bin: `node <nodeFlags> main.js <args>`. */
  nodeFlags?: string[];
}

export function spawnCli(args: string[], options: CliOptions = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(options.env),
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function cli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return spawnCli(args, options).done;
}

/** A fresh temp directory, removed when the test is done (tests/helpers/temp-dir.ts). */
export async function tempDir(): Promise<string> {
  return newTempDir('batch-llm-cli-');
}

export async function writeJsonl(path: string, lines: Array<unknown | string>): Promise<string> {
  await writeFile(path, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
  return path;
}

export async function readResults(path: string): Promise<ResultLine[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ResultLine);
}

/** Resolves once `path` holds at least `lines` newline characters. */
export async function waitForLines(path: string, lines: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const size = await stat(path).then((info) => info.size, () => 0);
    if (size > 0) {
      const text = await readFile(path, 'utf8');
      if (text.split('\n').length - 1 >= lines) return;
    }
    if (Date.now() > deadline) throw new Error(`${path} did not reach ${lines} lines`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Short-form request lines `item-00000` … */
export function shortItems(count: number, prefix = 'item'): Array<{ custom_id: string; prompt: string }> {
  return Array.from({ length: count }, (_, i) => ({ custom_id: `${prefix}-${String(i).padStart(5, '0')}`, prompt: `prompt ${i}` }));
}

/** How the run on `out` ended, as its meta file records it (undefined: not recorded). */
export async function readRunEnd(out: string): Promise<RunEnd | undefined> {
  const meta = JSON.parse(await readFile(`${out}.meta.json`, 'utf8')) as { end?: RunEnd };
  return meta.end;
}

/** The meta file's `not_started` of a stopped run (throws when the run is not recorded as stopped). */
export async function notStartedOf(out: string): Promise<number> {
  const end = await readRunEnd(out);
  if (end?.state !== 'stopped' || end.not_started === null) throw new Error(`${out}: the meta file records no stop point: ${JSON.stringify(end)}`);
  return end.not_started;
}
