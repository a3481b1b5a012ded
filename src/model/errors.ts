// The error a failed item carries for library users. Workers send failures as plain data
// (outcome.ts); the main thread turns each into one of these, with a stable string `category`.

import type { ErrorCategory, ItemFailure } from './outcome.js';

export class BatchItemError extends Error {
  override name = 'BatchItemError';
  /** One of DESIGN §4's categories, e.g. "rate_limit", "transient", "bad_request". */
  readonly category: ErrorCategory;
  /** The provider's error code, when it gave one. */
  readonly code: string | null;
  /** HTTP status of the last attempt, null when no response came. */
  readonly status: number | null;

  constructor(failure: ItemFailure) {
    super(failure.message);
    this.category = failure.category;
    this.code = failure.code;
    this.status = failure.status;
  }
}
