// Options of the simulator's Batch API (batch-api.ts): processing time, expiring and failing lines,
// the per-file request limit.

/** Options of the Batch API. Every field may be omitted. */
export interface SimBatchOptions {
  /** Time a batch stays in progress before its results are ready, in ms. Minimum: 0. @default 1000 */
  processingMs?: number | undefined;
  /** Probability in [0, 1] that a line expires unanswered (the batch then ends `expired`). @default 0 */
  expireRate?: number | undefined;
  /** Probability in [0, 1] that a line fails with a 500 in the error file. @default 0 */
  failRate?: number | undefined;
  /** Most request lines in one input file; a bigger one fails the batch. Minimum: 1. @default 50000 */
  maxRequestsPerFile?: number | undefined;
}

export interface ResolvedSimBatchOptions {
  readonly processingMs: number;
  readonly expireRate: number;
  readonly failRate: number;
  readonly maxRequestsPerFile: number;
}

function rate(name: string, value: number | undefined): number {
  const v = value ?? 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new TypeError(`Expected \`batch.${name}\` to be a probability in [0, 1], got \`${String(v)}\``);
  return v;
}

export function resolveSimBatchOptions(options: SimBatchOptions = {}): ResolvedSimBatchOptions {
  const processingMs = options.processingMs ?? 1000;
  if (typeof processingMs !== 'number' || !(processingMs >= 0) || !Number.isFinite(processingMs)) {
    throw new TypeError(`Expected \`batch.processingMs\` to be a finite number >= 0, got \`${String(processingMs)}\``);
  }
  const maxRequestsPerFile = options.maxRequestsPerFile ?? 50_000;
  if (!Number.isInteger(maxRequestsPerFile) || maxRequestsPerFile < 1) {
    throw new TypeError(`Expected \`batch.maxRequestsPerFile\` to be an integer >= 1, got \`${String(maxRequestsPerFile)}\``);
  }
  return { processingMs, expireRate: rate('expireRate', options.expireRate), failRate: rate('failRate', options.failRate), maxRequestsPerFile };
}

