// Closing BullMQ's queue objects at the end of a run. After a Redis restart under the run, their
// close() can wait for good on a blocking connection of their own (bullmq 6.7.0: seen in 1 of
// 3–5 runs under load, for a Worker and for the coordinator's Queue/QueueEvents, with every item
// committed). Nothing of the run is left in them by then, so a close that takes longer than
// CLOSE_GRACE_MS is left behind: the connections are ours and disconnected after, and the CLI
// ends a process that lingers (cli/main.ts).

import type { Worker } from 'bullmq';

export const CLOSE_GRACE_MS = 5_000;

/** Whether `closing` settles within `ms` (a rejection counts as settled). */
export async function settlesWithin(closing: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([closing.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a queue object; says so when it had to be left behind. */
export async function closeQueueObject(object: { close(): Promise<void> }, what: string, log: (message: string) => void): Promise<void> {
  if (!(await settlesWithin(object.close(), CLOSE_GRACE_MS))) log(`${what}: did not close within ${CLOSE_GRACE_MS / 1000} s (after a Redis restart); left behind`);
}

/**
 * Closes a BullMQ worker: the chunks it holds finish first (`idle` says when none is being
 * worked), however long they take; only then does the grace period start.
 */
export async function closeWorker<T, R>(worker: Worker<T, R>, idle: () => boolean, log: (message: string) => void): Promise<void> {
  const closing = worker.close();
  let timer: NodeJS.Timeout | undefined;
  const idleNow = new Promise<void>((resolve) => {
    timer = setInterval(() => idle() && resolve(), 100);
  });
  try {
    await Promise.race([closing, idleNow]);
  } finally {
    clearInterval(timer);
  }
  if (!(await settlesWithin(closing, CLOSE_GRACE_MS))) log(`queue: the worker did not close within ${CLOSE_GRACE_MS / 1000} s of its last chunk (after a Redis restart); left behind`);
}
