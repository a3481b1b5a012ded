// A mistake in how batch-llm was called (an option's value, a file that cannot be read, a results
// file that is in the way). The CLI prints the message and exits with code 2.

export class UsageError extends Error {
  override name = 'UsageError';
}
