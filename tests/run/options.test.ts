import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/model/errors.js';
import { resolveOptions } from '../../src/run/options.js';

const items: never[] = [];

describe('options', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveOptions({ items, baseURL: 'http://127.0.0.1:1/v1' }, {});
    expect(resolved).toMatchObject({
      apiKey: 'no-key',
      concurrency: 64,
      maxAttempts: 5,
      maxRateLimitRetries: 20,
      attemptTimeoutMs: 60_000,
      backoffBaseMs: 500,
      backoffMaxMs: 30_000,
      cooldownBaseMs: 1_000,
      cooldownMaxMs: 60_000,
      rampStart: 8,
      rampJitterMs: 50,
      headers: {},
      failFast: ['auth', 'quota'],
      abortMode: 'drain',
      rateHeadroom: 0.98,
      defaultAnswerTokens: 256,
      learnRateLimits: true,
    });
    // threads: decided once the task is loaded (run/thread-count.ts, tests/run/default-threads.test.ts).
    for (const unset of ['task', 'threads', 'model', 'onEvent', 'itemDeadlineMs', 'deadlineMs', 'maxTokens', 'maxCost', 'prices', 'threadMemoryMb', 'signal', 'rpm', 'tpm']) {
      expect(resolved).not.toHaveProperty(unset);
    }
  });

  it('keeps a default when an option is explicitly undefined', () => {
    expect(resolveOptions({ items, baseURL: 'http://x/v1', concurrency: undefined }, {}).concurrency).toBe(64);
  });

  it('takes the endpoint and key from the environment', () => {
    const resolved = resolveOptions({ items }, { OPENAI_BASE_URL: 'https://api.example/v1', OPENAI_API_KEY: 'sk-env' });
    expect(resolved.baseURL).toBe('https://api.example/v1');
    expect(resolved.apiKey).toBe('sk-env');
  });

  it('says what was expected and what came', () => {
    expect(() => resolveOptions({ items, baseURL: 'http://x/v1', concurrency: 0 }, {})).toThrow(
      new OptionsError('Expected `concurrency` to be an integer >= 1, got `0` (number)'),
    );
    expect(() => resolveOptions({ items, baseURL: 'http://x/v1', attemptTimeoutMs: Number.NaN }, {})).toThrow(/attemptTimeoutMs.*got `NaN`/);
    expect(() => resolveOptions({ items }, {})).toThrow(/baseURL.*OPENAI_BASE_URL.*got `undefined`/);
    expect(() => resolveOptions({ items, baseURL: 'http://x/v1', maxCost: 5 }, {})).toThrow('Expected `prices` with `maxCost`');
    expect(() => resolveOptions({ items, baseURL: 'http://x/v1', rpm: 0 }, {})).toThrow('Expected `rpm` to be a finite number of requests per minute > 0, got `0` (number)');
    expect(() => resolveOptions({ items, baseURL: 'http://x/v1', rateHeadroom: 1.5 }, {})).toThrow('Expected `rateHeadroom` to be a share in (0, 1], got `1.5` (number)');
    expect(() => resolveOptions({ items, baseURL: 'http://x/v1', failFast: ['often' as 'auth'] }, {})).toThrow(/Expected `failFast` to hold error categories \(rate_limit, .*\), got `often`/);
    expect(() => resolveOptions({ items, baseURL: 'http://x/v1', abortMode: 'later' as 'drain' }, {})).toThrow('Expected `abortMode` to be "drain" or "cancel", got `later`');
  });
});
