// Runs every benchmark scenario, each in its own process, and collects the JSON object each one
// prints into benchmarks/results.json (with the machine: CPU model, cores, memory, Node version,
// date); then redraws the charts and the tables of benchmarks/README.md from that file.
//
//   npm run bench                      # the full suite (~75 min on 2 cores; rate-limited ~60 of them)
//   npm run bench -- --quick           # every scenario, small (under two minutes)
//   npm run bench -- --only rate-limited,latency-throughput
//   npm run bench -- --runs 5          # passed on to every scenario
//
// results.json keeps the latest full and the latest quick result of each scenario side by side,
// so a quick run never overwrites full figures, and running one scenario keeps the others.
// Every scenario is bounded in time (--timeout-min, per scenario) and is killed past it.
//
// Anything else running on the machine competes for the same cores: run-all measures the CPU
// time that processes outside the benchmark used during each scenario (from /proc/stat) and
// records it with the result as `foreign_cpu_share` (0 = the machine was the benchmark's alone).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { renderReport } from './charts.js';
import { log, machine, round } from './lib/report.js';

// The long, mostly idle rate-limited scenario runs last.
const SCENARIOS = [
  'http-path',
  'startup',
  'latency-throughput',
  'cpu-postprocess',
  'rate-limit-storm',
  'framework-overhead',
  'memory',
  'cli-memory',
  'cooldown-wakeup',
  'rate-limited',
] as const;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    out: { type: 'string', default: new URL('./results.json', import.meta.url).pathname },
    'timeout-min': { type: 'string' },
    charts: { type: 'boolean', default: true },
  },
  allowNegative: true,
});
const mode = values.quick ? 'quick' : 'full';
const selected = values.only === undefined ? [...SCENARIOS] : values.only.split(',').filter(Boolean);
for (const name of selected) {
  if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`unknown scenario ${name}; known: ${SCENARIOS.join(', ')}`);
}
const timeoutMs = Number(values['timeout-min'] ?? (values.quick ? 3 : 90)) * 60_000;

export interface ResultsFile {
  updated: string;
  machine: ReturnType<typeof machine>;
  scenarios: Record<string, { full?: Record<string, unknown>; quick?: Record<string, unknown> }>;
}

function readResults(path: string): ResultsFile {
  if (!existsSync(path)) return { updated: '', machine: machine(), scenarios: {} };
  return JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
}

/** Busy CPU time of the whole machine so far, in ms (all cores, from /proc/stat). */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal …; the unit is 1/100 s.
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10;
}

/** CPU time of this process plus its reaped children (the scenarios and their children), in ms. */
function ownTreeMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime: fields 14–17, in clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 10;
}

async function runScenario(name: string): Promise<Record<string, unknown>> {
  const script = new URL(`./${name}.ts`, import.meta.url).pathname;
  const args = ['--import', 'tsx', script, ...(values.quick ? ['--quick'] : []), ...(values.runs ? ['--runs', values.runs] : [])];
  const busyBefore = machineBusyMs();
  const ownBefore = ownTreeMs();
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const timer = setTimeout(() => {
    log(`${name}: over ${timeoutMs / 60_000} min, stopping it`);
    child.kill('SIGTERM');
  }, timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${name} exited with ${String(code)}`);
  const wallMs = performance.now() - started;
  const foreignMs = Math.max(0, machineBusyMs() - busyBefore - (ownTreeMs() - ownBefore));
  const result = JSON.parse(stdout) as Record<string, unknown>;
  return { ...result, wall_s: round(wallMs / 1000, 1), foreign_cpu_share: round(foreignMs / (wallMs * availableParallelism()), 3) };
}

const started = performance.now();
const failures: string[] = [];
for (const name of selected) {
  log(`── ${name} (${mode})`);
  try {
    const result = await runScenario(name);
    // Read and write per scenario: a long suite that fails late keeps what it measured.
    const results = readResults(values.out);
    results.scenarios[name] = { ...results.scenarios[name], [mode]: result };
    results.updated = new Date().toISOString();
    results.machine = machine();
    writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
    log(`${name}: done in ${String(result['wall_s'])} s (foreign CPU share ${String(result['foreign_cpu_share'])})`);
  } catch (error) {
    failures.push(name);
    log(`${name}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  }
}
log(`suite (${mode}) finished in ${Math.round((performance.now() - started) / 1000)} s${failures.length > 0 ? `; failed: ${failures.join(', ')}` : ''}`);
if (values.charts) renderReport(values.out);
if (failures.length > 0) process.exitCode = 1;
