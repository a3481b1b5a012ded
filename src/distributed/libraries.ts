// The npm packages of distributed runs, loaded on their first use. BullMQ (with ioredis) takes
// ~175–200 ms to import and zod ~65–75 ms: a program that imports the package for runBatch
// alone paid ~300 ms of start-up for them before its first request (benchmarks/README.md,
// "Eighth pass"). The entry points of a distributed run — coordinateBatch's stream, runWorker,
// reachRedis — are async and load them first; the code they run afterwards, much of it
// synchronous (connections, queue objects, the meta schema), takes them from `libraries()`.

import type * as BullMQ from 'bullmq';
import type * as IORedis from 'ioredis';
import type * as Zod from 'zod';

export interface DistributedLibraries {
  Redis: typeof IORedis.Redis;
  Queue: typeof BullMQ.Queue;
  QueueEvents: typeof BullMQ.QueueEvents;
  Job: typeof BullMQ.Job;
  Worker: typeof BullMQ.Worker;
  z: typeof Zod.z;
}

let loaded: DistributedLibraries | null = null;
let loading: Promise<DistributedLibraries> | null = null;

/** Loads BullMQ, ioredis and zod once; later calls resolve with the same modules. */
export function loadDistributedLibraries(): Promise<DistributedLibraries> {
  loading ??= Promise.all([import('bullmq'), import('ioredis'), import('zod')]).then(([bullmq, ioredis, zod]) => {
    loaded = { Redis: ioredis.Redis, Queue: bullmq.Queue, QueueEvents: bullmq.QueueEvents, Job: bullmq.Job, Worker: bullmq.Worker, z: zod.z };
    return loaded;
  });
  return loading;
}

/** The loaded libraries; only after loadDistributedLibraries() has resolved (a bug of ours otherwise). */
export function libraries(): DistributedLibraries {
  if (loaded === null) throw new Error('batch-llm internal error: a distributed run used BullMQ, ioredis or zod before loadDistributedLibraries()');
  return loaded;
}
