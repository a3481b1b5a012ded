import { describe, expect, it } from 'vitest';
import { rollFault, ScriptBook, StormSchedule } from '../../src/sim/faults.js';
import { resolveSimOptions, type RateLimitHint } from '../../src/sim/options.js';

const hint: RateLimitHint = { header: 'retry-after-ms', ms: 1000 };

describe('StormSchedule', () => {
  it('holds requests until n are held, then releases all of them, then passes', () => {
    const storms = new StormSchedule<string>([{ kind: 'hold', holdUntilInFlight: 3, hint }]);
    expect(storms.onArrival(0, 'a')).toEqual({ action: 'hold' });
    expect(storms.onArrival(1, 'b')).toEqual({ action: 'hold' });
    expect(storms.onArrival(2, 'c')).toEqual({ action: 'release', hint, held: ['a', 'b', 'c'] });
    expect(storms.onArrival(3, 'd')).toEqual({ action: 'pass' });
    expect(storms.remaining).toBe(0);
  });

  it('stops counting a held request whose client left', () => {
    const storms = new StormSchedule<string>([{ kind: 'hold', holdUntilInFlight: 2, hint }]);
    storms.onArrival(0, 'a');
    storms.abandon('a');
    expect(storms.onArrival(1, 'b')).toEqual({ action: 'hold' });
    expect(storms.onArrival(2, 'c')).toEqual({ action: 'release', hint, held: ['b', 'c'] });
  });

  it('rejects within the window from its first request, then starts the next storm at the next arrival', () => {
    const storms = new StormSchedule<string>([
      { kind: 'window', windowMs: 100, status: 429, hint },
      { kind: 'window', windowMs: 50, status: 503, hint: undefined },
    ]);
    expect(storms.onArrival(1000, 'a').action).toBe('reject'); // starts storm 1 at t=1000
    expect(storms.onArrival(1099, 'b')).toEqual({ action: 'reject', status: 429, hint });
    expect(storms.onArrival(5000, 'c')).toEqual({ action: 'reject', status: 503, hint: undefined }); // storm 1 ended; c starts storm 2 at 5000
    expect(storms.onArrival(5049, 'd').action).toBe('reject');
    expect(storms.onArrival(5050, 'e').action).toBe('pass');
  });
});

describe('ScriptBook', () => {
  it('plays the steps of a key in order, then succeeds; unscripted keys get nothing', () => {
    const { scripts } = resolveSimOptions({ faults: { scripts: { k: [429, 500] } } });
    const book = new ScriptBook(scripts);
    expect(book.next('k')).toMatchObject({ kind: 'error', status: 429 });
    expect(book.next('other')).toBeUndefined();
    expect(book.next('k')).toMatchObject({ kind: 'error', status: 500 });
    expect(book.next('k')).toEqual({ kind: 'success', delayMs: undefined, output: undefined });
    expect(book.next('k')).toEqual({ kind: 'success', delayMs: undefined, output: undefined });
  });
});

describe('rollFault', () => {
  const rates = { error500: 0.1, error503: 0.2, reset: 0.3, hang: 0.1 };
  it('maps a draw to exclusive faults in a fixed order', () => {
    expect(rollFault(rates, 0.05)).toBe('error500');
    expect(rollFault(rates, 0.15)).toBe('error503');
    expect(rollFault(rates, 0.35)).toBe('reset');
    expect(rollFault(rates, 0.65)).toBe('hang');
    expect(rollFault(rates, 0.75)).toBeUndefined();
  });
  it('never fires a zero rate and always fires a rate of one', () => {
    expect(rollFault({ error500: 0, error503: 0, reset: 0, hang: 0 }, 0)).toBeUndefined();
    expect(rollFault({ error500: 0, error503: 1, reset: 0, hang: 0 }, 0.999999)).toBe('error503');
  });
});
