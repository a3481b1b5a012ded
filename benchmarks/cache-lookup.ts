// Micro-benchmark of the response cache (src/cache): fills an LMDB cache directory with N typical
// chat-completion answers, then times lookups of random stored keys (the read the attempt loop
// does before the gate), with and without computing the key from the request body, and reports
// the size on disk per entry. Prints one JSON object.
//
//   npx tsx benchmarks/cache-lookup.ts [--entries 200000] [--lookups 200000]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResponseCache } from '../src/cache/response-cache.js';
import { requestKey } from '../src/cache/request-key.js';
import { endpointIdentity } from '../src/model/redact.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const entries = arg('entries', 200_000);
const lookups = arg('lookups', 200_000);
const endpoint = endpointIdentity('https://api.openai.com/v1');

function request(i: number): Record<string, unknown> {
  return {
    model: 'gpt-4o-mini',
    temperature: 0.7,
    messages: [
      { role: 'system', content: 'You are a careful assistant. Answer in one short paragraph.' },
      { role: 'user', content: `Question number ${i}: what is the capital of the country with index ${i % 197}?` },
    ],
  };
}

function answer(i: number): unknown {
  return {
    id: `chatcmpl-${i.toString(36).padStart(12, '0')}`,
    object: 'chat.completion',
    created: 1_764_000_000 + i,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: `The capital you are asking about (index ${i % 197}) is a city of some size; here is a sentence or two about it, as asked.` },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 41, completion_tokens: 32, total_tokens: 73 },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'batch-llm-cache-bench-'));
const cache = new ResponseCache(dir);
try {
  const keys: string[] = [];
  const fillStart = performance.now();
  let pending: Promise<void>[] = [];
  for (let i = 0; i < entries; i += 1) {
    const key = requestKey(endpoint, '/chat/completions', request(i));
    keys.push(key);
    pending.push(cache.put(key, { status: 200, requestId: `req_${i}`, body: answer(i) }));
    if (pending.length === 10_000) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  const fillMs = performance.now() - fillStart;

  // Random order, so the reads are not a sequential scan of the tree.
  const order = Array.from({ length: lookups }, () => Math.floor(Math.random() * entries));
  for (let i = 0; i < Math.min(10_000, lookups); i += 1) cache.get(keys[order[i] ?? 0] ?? '');

  let found = 0;
  const getStart = performance.now();
  for (const i of order) if (cache.get(keys[i] ?? '') !== null) found += 1;
  const getUs = ((performance.now() - getStart) * 1000) / lookups;

  const keyedStart = performance.now();
  for (const i of order) if (cache.get(requestKey(endpoint, '/chat/completions', request(i))) !== null) found += 1;
  const keyedUs = ((performance.now() - keyedStart) * 1000) / lookups;

  const missStart = performance.now();
  for (let i = 0; i < lookups; i += 1) cache.get(requestKey(endpoint, '/chat/completions', request(entries + i)));
  const missUs = ((performance.now() - missStart) * 1000) / lookups;

  const stats = cache.stats();
  console.log(
    JSON.stringify({
      entries,
      lookups,
      found: found / 2,
      lookup_us: Number(getUs.toFixed(2)),
      key_and_lookup_us: Number(keyedUs.toFixed(2)),
      miss_key_and_lookup_us: Number(missUs.toFixed(2)),
      fill_writes_per_s: Math.round(entries / (fillMs / 1000)),
      bytes_per_entry: stats.bytesPerEntry === null ? null : Math.round(stats.bytesPerEntry),
      answer_json_bytes: JSON.stringify(answer(1)).length,
      file_mb: Number((stats.fileBytes / 1e6).toFixed(1)),
    }),
  );
} finally {
  await cache.close();
  rmSync(dir, { recursive: true, force: true });
}
