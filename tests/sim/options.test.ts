import { describe, expect, it } from 'vitest';
import { resolveSimOptions } from '../../src/sim/index.js';

describe('simulator options', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveSimOptions();
    expect(resolved).toEqual({
      host: '127.0.0.1',
      port: 0,
      latencyMs: 0,
      latencyJitterMs: 0,
      completionTokens: 16,
      embeddingDimensions: 256,
      seed: 1,
      model: 'batch-llm-sim',
      apiKey: undefined,
      rpm: undefined,
      tpm: undefined,
      rateWindowMs: 60_000,
      invalidJsonRate: 0,
      schemaViolationRate: 0,
      rateLimitHint: { header: 'retry-after-ms', ms: 1000 },
      storms: [],
      scripts: new Map(),
      rates: { error500: 0, error503: 0, reset: 0, hang: 0 },
      recordRequests: true,
    });
  });

  it('keeps a default when an option is explicitly undefined', () => {
    expect(resolveSimOptions({ latencyMs: undefined, completionTokens: undefined }).completionTokens).toBe(16);
  });

  it('names the option, what was expected and what came', () => {
    expect(() => resolveSimOptions({ latencyMs: -1 })).toThrow(
      'Expected `latencyMs` to be a finite number >= 0, got `-1` (number)',
    );
    expect(() => resolveSimOptions({ invalidJsonRate: 2 })).toThrow(
      'Expected `invalidJsonRate` to be a finite number >= 0 and <= 1, got `2` (number)',
    );
    expect(() => resolveSimOptions({ faults: { storms: [{ holdUntilInFlight: 0 }] } })).toThrow(
      'Expected `faults.storms[0].holdUntilInFlight` to be an integer >= 1, got `0` (number)',
    );
    expect(() => resolveSimOptions({ faults: { scripts: { a: [200, 42] } } })).toThrow('faults.scripts["a"][1]');
    expect(() => resolveSimOptions({ faults: { rates: { error500: 0.6, hang: 0.6 } } })).toThrow(
      'the sum of faults.rates',
    );
  });

  it('gives script steps their default status', () => {
    const { scripts } = resolveSimOptions({
      faults: { scripts: { k: [{ code: 'insufficient_quota' }, { delayMs: 5 }, { kind: 'reset' }, 503] } },
    });
    expect(scripts.get('k')).toEqual([
      { kind: 'error', status: 429, code: 'insufficient_quota', delayMs: undefined, hint: undefined },
      { kind: 'success', delayMs: 5, output: undefined },
      { kind: 'reset', delayMs: undefined },
      { kind: 'error', status: 503, code: undefined, delayMs: undefined, hint: undefined },
    ]);
  });

  it('gives 429 storms without a hint the simulator-wide hint, and 5xx storms none unless named', () => {
    const { storms } = resolveSimOptions({
      rateLimitHint: { header: 'retry-after', ms: 2000 },
      faults: { storms: [{ windowMs: 10 }, { holdUntilInFlight: 3, hint: { header: 'none', ms: 0 } }, { windowMs: 20, status: 503 }] },
    });
    expect(storms).toEqual([
      { kind: 'window', windowMs: 10, status: 429, hint: { header: 'retry-after', ms: 2000 } },
      { kind: 'hold', holdUntilInFlight: 3, hint: { header: 'none', ms: 0 } },
      { kind: 'window', windowMs: 20, status: 503, hint: undefined },
    ]);
    expect(() => resolveSimOptions({ faults: { storms: [{ windowMs: 10, status: 418 as 503 }] } })).toThrow(/faults\.storms\[0\]\.status/);
  });
});
