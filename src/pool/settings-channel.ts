// How a worker thread gets its settings: in `workerData` when the pool starts with them, or over a
// BroadcastChannel when the threads were started before the settings were known (prestart.ts).
//
// A thread started early asks on the channel; the main thread answers every ask once it has the
// settings, and broadcasts them once when they come. Both, because a BroadcastChannel message
// reaches only the channels open when it is posted: a thread that opened its channel after the
// broadcast (one that Piscina started to replace a dead one, say) asks and is answered, and one
// that asked before the settings existed gets the broadcast. A thread takes the first settings it
// hears and closes its channel. The settings hold SharedArrayBuffers (the control block), which a
// BroadcastChannel shares between threads like postMessage does.

import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import type { WorkerSettings } from '../attempt/settings.js';

/** What a worker thread is started with (its `workerData`). */
export type ThreadStart = { readonly settings: WorkerSettings } | { readonly settingsChannel: string };

const ASK = 'batch-llm: settings?';

/** The main thread's side: answers the threads' asks once `deliver` has the settings. */
export class SettingsOffer {
  readonly name = `batch-llm-settings-${randomUUID()}`;
  readonly #channel = new BroadcastChannel(this.name);
  #settings: WorkerSettings | null = null;

  constructor() {
    this.#channel.onmessage = (event) => {
      if (event.data === ASK && this.#settings !== null) this.#channel.postMessage(this.#settings);
    };
    // The channel alone does not keep the process alive: the run does, while it lasts.
    this.#channel.unref();
  }

  deliver(settings: WorkerSettings): void {
    this.#settings = settings;
    this.#channel.postMessage(settings);
  }

  close(): void {
    this.#channel.close();
  }
}

/** The thread's side: its settings, from `workerData` or, once they come, from the channel. */
export function settingsOf(start: ThreadStart): Promise<WorkerSettings> {
  if ('settings' in start) return Promise.resolve(start.settings);
  return new Promise((resolve) => {
    const channel = new BroadcastChannel(start.settingsChannel);
    channel.onmessage = (event) => {
      const data: unknown = event.data;
      // Other threads' asks come here too.
      if (data === ASK) return;
      channel.close();
      resolve(data as WorkerSettings);
    };
    channel.postMessage(ASK);
  });
}
