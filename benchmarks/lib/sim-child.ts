// Starts the simulator in a child process (lib/sim-child-main.ts), so a benchmark's client and
// server do not share an event loop, and reads its request counts and CPU time from the outside.
// It is the benchmarks' one simulator launcher: the IPC channel lets it ask the simulator for its
// running totals (requests, 429s …), which a baseline whose HTTP client retries on its own cannot
// report itself, and the child ends when the channel closes, so a dead benchmark leaves no
// simulator behind.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { SimOptions, SimRequestRecord, SimStats } from '../../src/sim/index.js';
import { processCpuMicros } from './cpu.js';

export interface SimChild {
  url: string;
  /** CPU time the simulator process has used so far, in µs (from /proc; 10 ms resolution). */
  cpuMicros(): number;
  /** The simulator's running totals. */
  stats(): Promise<SimStats>;
  /** Its record of every request (empty unless started with `recordRequests: true`). */
  requests(): Promise<SimRequestRecord[]>;
  stop(): Promise<void>;
}

type Message = { type: 'ready'; url: string } | { type: 'stats'; stats: SimStats } | { type: 'requests'; requests: SimRequestRecord[] };

function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && 'type' in value;
}

async function nextMessage<T extends Message['type']>(child: ChildProcess, type: T): Promise<Extract<Message, { type: T }>> {
  for (;;) {
    const [message] = (await once(child, 'message')) as [unknown];
    if (isMessage(message) && message.type === type) return message as Extract<Message, { type: T }>;
  }
}

export async function startSimChild(options: SimOptions): Promise<SimChild> {
  const script = new URL('./sim-child-main.ts', import.meta.url).pathname;
  const child = fork(script, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const failed = once(child, 'exit').then(([code]) => {
    throw new Error(`the simulator process exited early (code ${String(code)})`);
  });
  const ready = await Promise.race([nextMessage(child, 'ready'), failed]);
  failed.catch(() => {});
  return {
    url: ready.url,
    cpuMicros: () => processCpuMicros(child.pid),
    async stats() {
      const reply = nextMessage(child, 'stats');
      child.send('stats');
      return (await reply).stats;
    },
    async requests() {
      const reply = nextMessage(child, 'requests');
      child.send('requests');
      return (await reply).requests;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}
