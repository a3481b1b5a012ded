// The CLI's exit codes: a fixed contract, documented in --help and the README.

export const EXIT = {
  /** Every item succeeded. */
  ok: 0,
  /** The run finished and some items failed. */
  failures: 1,
  /** A usage error, or the input file could not be read. */
  usage: 2,
  /** Stopped early: interrupted (Ctrl-C, SIGTERM) or fail-fast on an auth or quota error. */
  stopped: 3,
  /** An unexpected internal error (a bug): not part of the contract above. */
  internal: 70,
} as const;
