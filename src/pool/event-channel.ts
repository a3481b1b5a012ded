// Worker -> main events for observers (`onEvent`): each worker thread opens a Comlink channel to
// the main thread when it starts, and calls the observer through it. Only when an observer is
// given: the hot path pays nothing otherwise. Events are plain data, like everything that
// crosses threads.

import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { BatchEvent } from '../model/events.js';
import { EVENTS_PORT } from './messages.js';


interface EventSink {
  emit(event: BatchEvent): void;
}

/** Worker side: a function that sends an event to the main thread's observer. */
export function openEventChannel(): (event: BatchEvent) => void {
  if (parentPort === null) throw new Error('openEventChannel runs in a worker thread');
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
    Comlink.expose({ emit: onEvent } satisfies EventSink, nodeEndpoint(port as MessagePort));
  });
  return () => {
    for (const port of ports) port.close();
  };
}
