// Option values as typed on the command line, checked with messages that name the option and
// repeat what came. Range checks beyond "is it a number" are left to the library's own
// validation (resolveOptions), so the CLI and the library cannot disagree about limits.

import { parseDuration } from '../model/duration.js';
import { DurationError } from '../model/errors.js';
import { UsageError } from '../model/errors.js';

/** A whole number >= 0, or undefined when the option was not given. */
export function wholeNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${name}: expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** A finite number, or undefined when the option was not given. */
export function decimal(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`${name}: expected a number, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A probability in [0, 1], or undefined when the option was not given. */
export function probability(name: string, text: string | undefined): number | undefined {
  const value = decimal(name, text);
  if (value !== undefined && (value < 0 || value > 1)) {
    throw new UsageError(`${name}: expected a probability between 0 and 1 (e.g. 0.05), got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Milliseconds of a duration such as `500ms`, `30s`, `5m`, or undefined when not given. */
export function duration(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text, name);
  } catch (error) {
    if (error instanceof DurationError) throw new UsageError(error.message);
    throw error;
  }
}
