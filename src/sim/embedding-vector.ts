/**
 * The simulator's embedding of a text: a unit vector that depends only on the text, the seed and
 * the dimension — the same input always embeds the same, whatever order requests arrive in, so a
 * test can compare vectors across runs, caches and the Batch API.
 */
import { hashString, mulberry32 } from './prng.js';

/** A unit-length vector of `dimensions` components, rounded to 6 decimals (what a float32 holds). */
export function embeddingVector(text: string, seed: number, dimensions: number): number[] {
  const random = mulberry32(hashString(text, seed));
  const raw = new Array<number>(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const value = random() * 2 - 1;
    raw[i] = value;
    norm += value * value;
  }
  const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm);
  for (let i = 0; i < dimensions; i++) raw[i] = Math.round((raw[i] ?? 0) * scale * 1e6) / 1e6;
  return raw;
}

/** A vector as the API's `encoding_format: "base64"` sends it: little-endian float32s, base64. */
export function base64Vector(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i] ?? 0, i * 4);
  return bytes.toString('base64');
}
