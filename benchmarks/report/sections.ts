// One section of the report per scenario: its title, what it measures, and how its result becomes
// tables (tables.ts) and charts (draw.ts). The order of SECTIONS is the order on the page.
import { barChart, type Bar } from './draw.js';
import { fmt, fmtSpread } from './format.js';
import { isRecord, num, rowsOf, spread, str, type Json } from './read.js';
import { table } from './tables.js';

export interface Section {
  title: string;
  /** What the scenario measures, in a sentence or two (no figures: they come from the data). */
  about: string;
  render(result: Json): { tables: string; charts: Array<{ name: string; svg: string }> };
}

// Rows measured by thread count (batch-llm, its CLI, a raw-threads control) say how many.
const clientLabel = (row: Json) =>
  str(row, 'client') === 'batch-llm' || row['by_threads'] === true ? `${str(row, 'client')} ×${fmt(num(row, 'threads'), 0)} thread(s)` : str(row, 'client');
const ours = (row: Json) => str(row, 'client').startsWith('batch-llm');

function toBar(row: Json, key: string, label = clientLabel(row), scale = 1): Bar | null {
  const s = spread(row, key);
  if (s === null) return null;
  return { label, value: s.median * scale, min: s.min * scale, max: s.max * scale, ours: ours(row) };
}

const bars = (list: Array<Bar | null>) => list.filter((b): b is Bar => b !== null);

export const SECTIONS: Record<string, Section> = {
  'latency-throughput': {
    title: 'Latency-bound: items/s against in flight ÷ latency',
    about:
      'Every request takes a fixed latency at the simulator; the most a client can do is in-flight ÷ latency (Little’s law). ' +
      'Items/s over the whole run (thread start-up included) and in steady state (first result to last), with the CPU each side spends per item.',
    render(result) {
      const rows = rowsOf(result);
      const levels = [...new Set(rows.map((r) => num(r, 'in_flight') ?? 0))];
      const tables = table(
        ['in flight', 'limit items/s', 'client', 'items/s (whole run)', 'steady items/s', 'of limit', 'client CPU µs/item', 'simulator CPU µs/item', 'first result ms'],
        rows.map((r) => [
          fmt(num(r, 'in_flight'), 0),
          fmt(num(r, 'littles_law_limit'), 0),
          clientLabel(r),
          fmtSpread(spread(r, 'items_per_s')),
          fmtSpread(spread(r, 'steady_items_per_s')),
          fmt(num(r, 'of_limit')),
          fmtSpread(spread(r, 'client_cpu_us_per_item')),
          fmtSpread(spread(r, 'simulator_cpu_us_per_item')),
          fmtSpread(spread(r, 'first_result_ms')),
        ]),
      );
      const svg = barChart({
        title: 'Latency-bound throughput',
        subtitle: `${fmt(num(result, 'items'), 0)} items, ${fmt(num(result, 'latency_ms'), 0)} ms latency; whole runs, median of ${fmt(num(result, 'runs'), 0)} with min–max`,
        unit: 'items/s',
        groups: levels.map((level) => ({
          label: `${fmt(level, 0)} in flight`,
          bars: bars(rows.filter((r) => num(r, 'in_flight') === level).map((r) => toBar(r, 'items_per_s'))),
        })),
      });
      return { tables, charts: [{ name: 'latency-throughput', svg }] };
    },
  },
  'cpu-postprocess': {
    title: 'CPU-bound answers: items/s by thread count',
    about:
      'Answers (the simulator fills the task’s json_schema) parsed, zod-validated and post-processed by the task (cpu-heavy: ~5 ms of plain-JS text analysis per item): ' +
      'in batch-llm’s worker threads (library and built CLI), on raw worker_threads doing only that work (the control: what the cores give), ' +
      'and on the one thread of each baseline doing the very same work. Steady-state items/s (library: first result to last; CLI: 10 % to 90 % of the requests).',
    render(result) {
      const rows = rowsOf(result);
      const tables = table(
        ['client', 'items/s', 'speed-up vs 1 thread', 'client CPU µs/item', 'simulator CPU µs/item', 'first result ms'],
        rows.map((r) => [
          clientLabel(r),
          fmtSpread(spread(r, 'items_per_s')),
          r['speed_up'] === undefined ? '' : fmt(num(r, 'speed_up'), 2),
          fmtSpread(spread(r, 'client_cpu_us_per_item')),
          fmtSpread(spread(r, 'simulator_cpu_us_per_item')),
          fmtSpread(spread(r, 'first_result_ms')),
        ]),
      );
      const svg = barChart({
        title: 'CPU-bound answers (parse + zod + post-process)',
        subtitle: `task ${str(result, 'task')}, ${fmt(num(result, 'items'), 0)} items; steady state, median of ${fmt(num(result, 'runs'), 0)} with min–max`,
        unit: 'items/s',
        groups: [{ label: '', bars: bars(rows.map((r) => toBar(r, 'items_per_s'))) }],
      });
      return { tables, charts: [{ name: 'cpu-postprocess', svg }] };
    },
  },
  'rate-limited': {
    title: 'Rate-limited: goodput against the limit, and 429s',
    about:
      'The simulator enforces RPM and TPM over sliding windows and answers 429 beyond them; each client runs the same workload against a fresh simulator. ' +
      'Goodput is successful items per second of wall time; 429s are counted by the simulator. An empty window admits a whole window’s budget at once, ' +
      'so a client that bursts at the start can exceed the limit by that share (`first_window_burst_share` in results.json). ' +
      'The full run adds batch-llm with `learnRateLimits` off, which separates the pacing itself from what learning from the headers adds.',
    render(result) {
      const rows = rowsOf(result);
      const sim = isRecord(result['simulator']) ? result['simulator'] : {};
      const tables = [
        table(
          ['client', 'goodput items/s', 'goodput ÷ limit', '429s', '429s % of requests', 'requests', 'failed items', 'wall s'],
          rows.map((r) => [
            str(r, 'client'),
            fmtSpread(spread(r, 'goodput_items_per_s')),
            fmtSpread(spread(r, 'goodput_of_limit')),
            fmtSpread(spread(r, 'rate_limited'), 0),
            fmtSpread(spread(r, 'rate_limited_pct_of_requests'), 2),
            fmtSpread(spread(r, 'requests'), 0),
            fmtSpread(spread(r, 'failed_items'), 0),
            fmtSpread(spread(r, 'wall_s')),
          ]),
        ),
        '',
        'Ratios, batch-llm ÷ baseline (medians):',
        '',
        table(
          ['batch-llm', 'baseline', 'goodput', '429s', 'wall time'],
          (Array.isArray(result['ratios']) ? result['ratios'].filter(isRecord) : []).map((r) => [
            str(r, 'ours'),
            str(r, 'baseline'),
            fmt(num(r, 'goodput'), 2),
            fmt(num(r, 'rate_limited'), 3),
            fmt(num(r, 'wall'), 2),
          ]),
        ),
      ].join('\n');
      const subtitle = `${fmt(num(result, 'items'), 0)} items, rpm ${fmt(num(sim, 'rpm'), 0)}, tpm ${fmt(num(sim, 'tpm'), 0)}, ${fmt(num(sim, 'rate_window_ms'), 0)} ms window; median of ${fmt(num(result, 'runs'), 0)} with min–max`;
      const goodput = barChart({
        title: 'Rate-limited: goodput ÷ limit',
        subtitle,
        unit: 'share of the limit',
        digits: 2,
        groups: [{ label: '', bars: bars(rows.map((r) => toBar(r, 'goodput_of_limit', str(r, 'client')))) }],
        lines: [
          { value: 1, label: 'limit' },
          { value: 0.95, label: 'target 0.95' },
        ],
      });
      const rateLimited = barChart({
        title: 'Rate-limited: 429s as % of requests',
        subtitle,
        unit: '% of requests',
        digits: 1,
        groups: [{ label: '', bars: bars(rows.map((r) => toBar(r, 'rate_limited_pct_of_requests', str(r, 'client')))) }],
        lines: [{ value: 1, label: 'target 1 %' }],
      });
      return { tables, charts: [{ name: 'rate-limited-goodput', svg: goodput }, { name: 'rate-limited-429s', svg: rateLimited }] };
    },
  },
  'rate-limit-storm': {
    title: '429 storm: one cooldown, silence, then the ramp',
    about:
      'The simulator holds every request the client has in flight and answers them all 429 at once with a pause hint. ' +
      'Requests the simulator received while the cooldown was on (from the first 429 to the cooldown’s end), and the time from the cooldown’s end ' +
      'until the completion rate (or the in-flight count at the simulator) is back to 90 % of its pre-storm level (measured during a warm-up at full speed).',
    render(result) {
      const rows = rowsOf(result);
      const tables = table(
        ['threads', 'cooldowns', 'requests sent during the cooldown', 'cooldown ms', 'end → full completion rate ms', 'end → full in flight ms', 'pre-storm items/s', 'pre-storm in flight'],
        rows.map((r) => [
          fmt(num(r, 'threads'), 0),
          fmtSpread(spread(r, 'cooldowns'), 0),
          fmtSpread(spread(r, 'requests_sent_during_cooldown'), 0),
          fmtSpread(spread(r, 'cooldown_ms'), 0),
          fmtSpread(spread(r, 'cooldown_end_to_full_rate_ms'), 0),
          fmtSpread(spread(r, 'cooldown_end_to_full_in_flight_ms'), 0),
          fmtSpread(spread(r, 'pre_storm_items_per_s'), 0),
          fmtSpread(spread(r, 'pre_storm_in_flight_at_simulator'), 0),
        ]),
      );
      const svg = barChart({
        title: '429 storm: from the cooldown’s end to full throughput',
        subtitle: `${fmt(num(result, 'concurrency'), 0)} in flight, ${str(result, 'hint')}, ${fmt(num(result, 'latency_ms'), 0)} ms latency; median of ${fmt(num(result, 'runs'), 0)} with min–max`,
        unit: 'ms',
        groups: rows.map((r) => ({
          label: `batch-llm ×${fmt(num(r, 'threads'), 0)} thread(s)`,
          bars: bars([
            toBar(r, 'cooldown_end_to_full_rate_ms', 'to full completion rate'),
            toBar(r, 'cooldown_end_to_full_in_flight_ms', 'to full in flight'),
          ]),
        })),
        lines: [{ value: num(result, 'latency_ms') ?? 0, label: 'one latency' }],
      });
      return { tables, charts: [{ name: 'rate-limit-storm', svg }] };
    },
  },
  'framework-overhead': {
    title: 'Framework overhead: an instant in-process call',
    about:
      'A task whose `call` returns a canned chat completion: no HTTP, so items/s and CPU per item are batch-llm’s own (admission, chunked dispatch into the pool, ' +
      'the attempt loop, the outcome back, the summary). CPU per item is split by thread: the main thread, the pool’s threads and V8’s helper threads (GC); ' +
      'the main thread’s event-loop utilization near 1 means it bounds the run. A bare p-limit loop over the same canned answer is the floor of a one-promise-per-item design.',
    render(result) {
      const rows = rowsOf(result);
      const tables = table(
        ['client', 'items/s (whole run)', 'steady items/s', 'CPU µs/item (all threads)', 'main thread µs/item', 'pool threads µs/item', 'helper threads µs/item', 'main thread ELU', 'of target'],
        rows.map((r) => [
          clientLabel(r),
          fmtSpread(spread(r, 'items_per_s')),
          fmtSpread(spread(r, 'steady_items_per_s')),
          fmtSpread(spread(r, 'cpu_us_per_item')),
          fmtSpread(spread(r, 'main_thread_us_per_item')),
          fmtSpread(spread(r, 'pool_threads_us_per_item')),
          fmtSpread(spread(r, 'helper_threads_us_per_item')),
          fmtSpread(spread(r, 'main_thread_elu'), 2),
          fmt(num(r, 'of_target'), 2),
        ]),
      );
      const svg = barChart({
        title: 'Framework overhead (instant call)',
        subtitle: `${fmt(num(result, 'items'), 0)} items, ${fmt(num(result, 'concurrency'), 0)} in flight; steady state, median of ${fmt(num(result, 'runs'), 0)} with min–max`,
        unit: 'items/s',
        groups: [{ label: '', bars: bars(rows.filter(ours).map((r) => toBar(r, 'steady_items_per_s'))) }],
        lines: [{ value: num(result, 'target_items_per_s') ?? 50_000, label: 'target' }],
      });
      return { tables, charts: [{ name: 'framework-overhead', svg }] };
    },
  },
  memory: {
    title: 'Memory: a million items streamed',
    about:
      'Items from a generator through streamBatch, each result taken and dropped, against an instant task `call`; every run in a fresh process. ' +
      'Peak RSS is the kernel’s high-water mark (VmHWM); RSS along the run shows whether memory grows with the input. ' +
      'p-limit as its README shows it (every item wrapped at once, then Promise.all) holds a promise per item.',
    render(result) {
      const rows = rowsOf(result);
      const tables = table(
        ['client', 'peak RSS MB (VmHWM)', 'peak RSS MB (sampled)', 'RSS before MB', 'RSS at 10 / 50 / 90 % MB', 'items/s'],
        rows.map((r) => [
          str(r, 'client'),
          fmtSpread(spread(r, 'peak_rss_mb'), 0),
          fmtSpread(spread(r, 'peak_rss_sampled_mb'), 0),
          fmtSpread(spread(r, 'rss_before_mb'), 0),
          (Array.isArray(r['rss_along_mb']) ? r['rss_along_mb'] : []).map((v) => fmt(typeof v === 'number' ? v : null, 0)).join(' / '),
          fmtSpread(spread(r, 'items_per_s')),
        ]),
      );
      const svg = barChart({
        title: 'Peak RSS while streaming',
        subtitle: `${fmt(num(result, 'items'), 0)} items; median of ${fmt(num(result, 'runs'), 0)} with min–max`,
        unit: 'MB',
        groups: [{ label: '', bars: bars(rows.map((r) => toBar(r, 'peak_rss_mb', str(r, 'client')))) }],
      });
      return { tables, charts: [{ name: 'memory', svg }] };
    },
  },
  'cli-memory': {
    title: 'CLI memory: a million input lines',
    about:
      '`batch-llm run` from the built package, in a process of its own, over short-form input lines against an instant simulator in another process ' +
      '(default options: one thread per core, no progress bar). Peak RSS is the kernel’s high-water mark of the CLI process, all its threads included.',
    render(result) {
      const rows = rowsOf(result);
      const target = num(result, 'target_peak_rss_mb');
      const tables = table(
        ['client', 'lines', 'input MB', 'peak RSS MB', 'target MB', 'items/s', 'wall s'],
        rows.map((r) => [
          str(r, 'client'),
          fmt(num(result, 'lines'), 0),
          fmt(num(result, 'input_mb'), 0),
          fmtSpread(spread(r, 'peak_rss_mb'), 0),
          fmt(target, 0),
          fmtSpread(spread(r, 'items_per_s')),
          fmtSpread(spread(r, 'wall_s')),
        ]),
      );
      return { tables, charts: [] };
    },
  },
  'cooldown-wakeup': {
    title: 'Cooldown wake-up: how fast waiting threads resume',
    about:
      'Real worker threads, each with many async waiters at the cooldown gate; the real CooldownKeeper ends each cooldown from its timer. ' +
      'Delay from the cooldown’s end to each waiter resuming, over all rounds (a micro-benchmark of the shared-memory protocol, no HTTP).',
    render(result) {
      const rows = rowsOf(result);
      const wake = (r: Json) => (isRecord(r['wake_ms']) ? r['wake_ms'] : {});
      const tables = table(
        ['threads', 'waiters per thread', 'rounds', 'p50 ms', 'p99 ms', 'max ms'],
        rows.map((r) => [
          fmt(num(r, 'threads'), 0),
          fmt(num(r, 'waiters_per_thread'), 0),
          fmt(num(r, 'rounds'), 0),
          fmt(num(wake(r), 'p50')),
          fmt(num(wake(r), 'p99')),
          fmt(num(wake(r), 'max')),
        ]),
      );
      const svg = barChart({
        title: 'Cooldown wake-up delay',
        subtitle: `target ${str(result, 'target')}; all waiters of all rounds, on a machine with ${fmt(num(isRecord(result['machine']) ? result['machine'] : {}, 'cores'), 0)} cores`,
        unit: 'ms',
        groups: rows.map((r) => ({
          label: `${fmt(num(r, 'threads'), 0)} threads × ${fmt(num(r, 'waiters_per_thread'), 0)} waiters`,
          bars: [
            { label: 'p50', value: num(wake(r), 'p50') ?? 0, ours: true },
            { label: 'p99', value: num(wake(r), 'p99') ?? 0, ours: true },
          ],
        })),
        lines: [{ value: 1, label: '1 ms' }],
      });
      return { tables, charts: [{ name: 'cooldown-wakeup', svg }] };
    },
  },
};
