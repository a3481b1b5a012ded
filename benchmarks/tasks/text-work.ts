// The CPU work of the cpu-heavy task's postProcess, on its own so the benchmark can run the very
// same body on raw worker threads (the hardware's own 2-threads ÷ 1-thread ratio for this work,
// without batch-llm). Plain JavaScript of the kind a post-processing stage does — building text,
// tokenizing it with a regular expression, counting terms in a Map, scoring, and a JSON round
// trip of the result — and no node:crypto: SHA-256 runs on a unit the two vCPUs of the benchmark
// machine share (raw threads scale ~1.2× on it, plain JS ~2×), so a hashing task measured the
// hardware, not the pool. A fixed amount of work per item (`rounds`), never a timed spin.

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'theta', 'kappa', 'lambda', 'sigma', 'omega', 'red', 'green', 'blue', 'score', 'token', 'parse', 'value'];

export interface TextFigures {
  terms: number;
  top: string;
  score: number;
}

/** `rounds` rounds of text analysis seeded by `seed` (the answer's text); deterministic. */
export function analyseText(seed: string, rounds: number): TextFigures {
  let state = 0;
  for (let i = 0; i < seed.length; i += 1) state = (state * 31 + seed.charCodeAt(i)) | 0;
  let figures: TextFigures = { terms: 0, top: '', score: 0 };
  for (let round = 0; round < rounds; round += 1) {
    // A sentence of 60 words, chosen by a small linear congruential generator.
    const parts: string[] = [];
    for (let w = 0; w < 60; w += 1) {
      state = (Math.imul(state, 1103515245) + 12345) | 0;
      parts.push(`${WORDS[(state >>> 8) % WORDS.length] ?? ''}${(state >>> 20) % 7}`);
    }
    const text = `${parts.join(' ')}. ${seed}`;
    const counts = new Map<string, number>();
    for (const token of text.toLowerCase().split(/[^a-z0-9]+/)) {
      if (token.length > 1) counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    let top = '';
    let best = 0;
    let score = 0;
    for (const [term, count] of counts) {
      score += (count * term.length) / (1 + term.charCodeAt(0) - 96);
      if (count > best) {
        best = count;
        top = term;
      }
    }
    figures = JSON.parse(JSON.stringify({ terms: counts.size, top, score: Math.round(score * 1000) / 1000 })) as TextFigures;
  }
  return figures;
}
