// Which thread holds how many in-flight permits. A worker thread that dies (an uncaught error in
// user code, running out of memory) takes its permits with it; without this table IN_FLIGHT
// would stay raised for good and, with a low ramp limit, could close the gate forever. Each
// thread claims a slot when it starts; the main thread, when a thread is gone, gives that slot's
// permits back.

import { I32, type ControlBlock } from './control-block.js';

/** Claims a free slot for the calling thread; returns its index. */
export function claimThreadSlot(block: ControlBlock, threadId: number): number {
  const slots = block.threadSlots;
  for (let index = 0; index * 2 < slots.length; index += 1) {
    if (Atomics.compareExchange(slots, index * 2, 0, threadId) === 0) return index;
  }
  throw new Error(`no free thread slot among ${slots.length / 2}: more threads than the control block was made for`);
}

export function addThreadPermits(block: ControlBlock, slot: number, delta: number): void {
  Atomics.add(block.threadSlots, slot * 2 + 1, delta);
}

/**
 * Frees the slots of threads that are no longer alive and returns their permits to IN_FLIGHT.
 * Called on the main thread when a worker thread has died. Returns how many permits came back.
 */
export function reclaimDeadThreads(block: ControlBlock, liveThreadIds: ReadonlySet<number>): number {
  const slots = block.threadSlots;
  let returned = 0;
  for (let index = 0; index * 2 < slots.length; index += 1) {
    const owner = Atomics.load(slots, index * 2);
    if (owner === 0 || liveThreadIds.has(owner)) continue;
    const held = Atomics.exchange(slots, index * 2 + 1, 0);
    Atomics.store(slots, index * 2, 0);
    if (held !== 0) {
      Atomics.sub(block.i32, I32.IN_FLIGHT, held);
      returned += held;
    }
  }
  // Every waiter, not `returned` of them: see permits.ts.
  if (returned > 0) Atomics.notify(block.i32, I32.IN_FLIGHT);
  return returned;
}
