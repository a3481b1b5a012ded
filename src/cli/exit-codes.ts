// The CLI's exit codes: a fixed contract, documented in --help and the README.

export const EXIT = {
  /** Every item succeeded. */
  ok: 0,
  /** The run finished and some items failed. */
  failures: 1,
  /** A usage error, or the input file could not be read. */
  usage: 2,
  /** Stopped early: Ctrl-C / SIGTERM, the run deadline, a spend cap, or a fail-fast category. */
  stopped: 3,
  /** An unexpected internal error (a bug): not part of the contract above. */
  internal: 70,
} as const;
