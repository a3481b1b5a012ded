// Test helper: the simulator in its own process (sim-process-main.ts), so that it does not share
// an event loop with the test, yet still tells the test every request it saw (arrival, status,
// the prompt) — what a distributed test needs to count the requests each item was paid for.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { SimOptions, SimRequestRecord } from '../../src/sim/index.js';

export interface SimProcess {
  readonly url: string;
  requests(): Promise<SimRequestRecord[]>;
  stop(): void;
}

type Message = { type: 'ready'; url: string } | { type: 'requests'; requests: SimRequestRecord[] };

async function next<T extends Message['type']>(child: ChildProcess, type: T): Promise<Extract<Message, { type: T }>> {
  for (;;) {
    const [message] = (await once(child, 'message')) as [Message];
    if (message.type === type) return message as Extract<Message, { type: T }>;
  }
}

export async function startSimProcess(options: SimOptions): Promise<SimProcess> {
  const main = new URL('./sim-process-main.ts', import.meta.url).pathname;
  const child = fork(main, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the simulator process exited early (code ${String(code)})`);
  });
  exited.catch(() => {});
  const { url } = await Promise.race([next(child, 'ready'), exited]);
  return {
    url,
    async requests() {
      const reply = next(child, 'requests');
      child.send('requests');
      return (await reply).requests;
    },
    stop() {
      if (child.connected) child.disconnect();
    },
  };
}
