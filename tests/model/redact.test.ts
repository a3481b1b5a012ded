// What counts as a secret of a URL, and redaction when one secret is part of another.
import { describe, expect, it } from 'vitest';
import { redactAll, runSecrets, secretList, urlSecrets, urlWithoutSecrets } from '../../src/model/redact.js';

describe('secrets', () => {
  it('takes a URL\'s password and the values of its credential query keys, not its other query values', () => {
    const url = 'https://gw:pass%2Fword-1@gw.example/v1?api-version=2024-10-21&api-key=ak-123456789&sig=sv%2Bsig-0001';
    expect([...new Set(urlSecrets(url))].sort()).toEqual(['ak-123456789', 'pass%2Fword-1', 'pass/word-1', 'sv%2Bsig-0001', 'sv+sig-0001'].sort());
    expect(urlSecrets('https://gw.example/v1?api-version=2024-10-21&deployment=gpt-4o-mini')).toEqual([]);
  });

  it('leaves a URL its path and other query values when it drops the secrets', () => {
    expect(urlWithoutSecrets('https://gw:password-1@gw.example/v1?api-version=2024-10-21&key=ak-123456789')).toBe('https://gw.example/v1?api-version=2024-10-21');
  });

  it('redacts a secret that contains another one whole, in whichever order they were given', () => {
    const password = 'hunter2024';
    const signature = 'hunter2024-7f3a9c1e55';
    for (const secrets of [secretList(password, signature), secretList(signature, password)]) {
      expect(redactAll(`sig ${signature}, pw ${password}`, secrets)).toBe('sig [redacted], pw [redacted]');
    }
    expect(secretList('abcdefgh', undefined, '', 'abcdefgh')).toEqual(['abcdefgh']);
  });

  it('gives a run its API key and its base URL\'s secrets, longest first', () => {
    expect(runSecrets({ apiKey: 'sk-short-12', baseURL: 'http://gw.example/v1?token=tok-0123456789abcdef' })).toEqual(['tok-0123456789abcdef', 'sk-short-12']);
    expect(runSecrets({ apiKey: 'sk-short-12', baseURL: 'not a url' })).toEqual(['sk-short-12']);
  });
});
