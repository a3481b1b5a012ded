// Worker -> main events for observers (`onEvent`): each worker thread opens a Comlink channel to
// the main thread when it starts, and calls the observer through it. Only when an observer is
// given: the hot path pays nothing otherwise. Events are plain data, like everything that
// crosses threads.
//
// Comlink is imported only when a channel is opened or served: a run without an observer never
// loads it (its UMD build costs ~15–25 ms of CPU to load, in every thread, before the first
// request).

import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import type { BatchEvent } from '../model/events.js';
import { EVENTS_PORT } from './messages.js';

async function loadComlink(): Promise<{ Comlink: typeof import('comlink'); nodeEndpoint: typeof import('comlink/dist/esm/node-adapter.mjs').default }> {
  const [Comlink, adapter] = await Promise.all([import('comlink'), import('comlink/dist/esm/node-adapter.mjs')]);
  return { Comlink, nodeEndpoint: adapter.default };
}

interface EventSink {
  emit(event: BatchEvent): void;
}

/** Worker side: a function that sends an event to the main thread's observer. */
export async function openEventChannel(): Promise<(event: BatchEvent) => void> {
  if (parentPort === null) throw new Error('openEventChannel runs in a worker thread');
  const { Comlink, nodeEndpoint } = await loadComlink();
  const { port1, port2 } = new MessageChannel();
  parentPort.postMessage({ [EVENTS_PORT]: port2 }, [port2]);
  const sink = Comlink.wrap<EventSink>(nodeEndpoint(port1));
  // Fire and forget: an observer's answer is never waited for.
  return (event) => void sink.emit(event);
}

/** Main side: serves `onEvent` on every channel a worker opens; returns a function that closes them. */
export function serveEventChannels(pool: { on(event: 'message', listener: (message: unknown) => void): unknown }, onEvent: (event: BatchEvent) => void): () => void {
  const ports: MessagePort[] = [];
  pool.on('message', (message) => {
    const port = (message as Record<string, unknown> | null)?.[EVENTS_PORT];
    if (port === undefined) return;
    ports.push(port as MessagePort);
    // A port queues its messages until it is started (Comlink starts it), so events a worker
    // sends while Comlink is still loading here wait for it; none is lost.
    void loadComlink().then(({ Comlink, nodeEndpoint }) => Comlink.expose({ emit: onEvent } satisfies EventSink, nodeEndpoint(port as MessagePort)));
  });
  return () => {
    for (const port of ports) port.close();
  };
}
