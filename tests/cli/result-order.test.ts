import { describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../src/run/admission.js';
import { completionOrder, InputOrder } from '../../src/cli/result-order.js';

describe('InputOrder', () => {
  it('writes lines in sequence order whatever order they finish in', () => {
    const written: string[] = [];
    const order = new InputOrder((text) => written.push(text), 10);
    order.put(2, 'c');
    order.put(1, 'b');
    expect(written).toEqual([]);
    expect(order.held).toBe(2);
    order.put(0, 'a');
    expect(written).toEqual(['a', 'b', 'c']);
    expect(order.held).toBe(0);
  });

  it('has room for the next `window` sequence numbers only, and frees it as lines are written', async () => {
    const order = new InputOrder(() => {}, 2);
    expect(order.roomFor(0)).toBeNull();
    expect(order.roomFor(1)).toBeNull();
    const room = order.roomFor(2);
    expect(room).not.toBeNull();
    let free = false;
    void room?.then(() => (free = true));
    order.put(1, 'b');
    await Promise.resolve();
    expect(free).toBe(false); // line 0 is still missing
    order.put(0, 'a');
    await room;
    expect(free).toBe(true);
  });

  it('completes under the real scheduler with a window much smaller than the concurrency, holding at most the window', async () => {
    const written: number[] = [];
    const window = 3;
    const order = new InputOrder((text) => written.push(Number(text)), window);
    let maxHeld = 0;
    async function* source(): AsyncGenerator<number> {
      for (let seq = 0; seq < 200; seq++) {
        const room = order.roomFor(seq);
        if (room !== null) await room;
        yield seq;
      }
    }
    const delays = Array.from({ length: 200 }, (_, i) => (i * 7919) % 5);
    const results = mapConcurrent(source(), 16, async (seq) => {
      await new Promise((resolve) => setTimeout(resolve, delays[seq]));
      return seq;
    });
    for await (const seq of results) {
      order.put(seq, String(seq));
      maxHeld = Math.max(maxHeld, order.held);
    }
    expect(written).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(maxHeld).toBeLessThan(window);
  });
});

describe('completionOrder', () => {
  it('writes every line at once and never makes the reader wait', () => {
    const written: string[] = [];
    const order = completionOrder((text) => written.push(text));
    order.put(5, 'x');
    expect(written).toEqual(['x']);
    expect(order.roomFor(1_000_000)).toBeNull();
  });
});
