// One run per results file: `<out>.lock` holds the owner's pid and process start time, created
// with O_EXCL so that two runs cannot both take it. A lock left by a run that died (kill -9, a
// power cut) is stale once its owner is gone — no live process with that pid, or one with that pid
// that started at another time (the pid was reused) — and is then taken over.
//
// A lock named after a path cannot see a hard link: `a.jsonl` and `b.jsonl` may be one file under
// two names, each with its own `<name>.lock`. So an existing results file is locked a second time
// by its identity — `batch-llm-<dev>-<ino>.lock` in the temporary directory, the one place every
// name of the file has in common (hard links never cross a file system, and the device and inode
// name the file on this machine). Both locks are taken the same way; either refuses the run.
//
// Hand-rolled rather than proper-lockfile: that library judges staleness by an mtime it must keep
// refreshing from a timer, and its lock holds no owner, so the refusal could not name the other run.

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLockedError } from '../model/errors.js';

export interface LockOwner {
  pid: number;
  /** The owner's start time as the kernel counts it (/proc/<pid>/stat field 22), or null off Linux. */
  start: string | null;
  host: string;
  /** ISO 8601, when the lock was taken. */
  since: string;
}

/** A process's start time from /proc, or null where there is no /proc (or no such process). */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true; // cannot tell: another machine's run counts as alive
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists (another user's); ESRCH: it is gone.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return owner.start === null || startTimeOf(owner.pid) === owner.start;
}

function readOwner(path: string): LockOwner | null {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { pid, start, host, since } = value as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof host !== 'string' || typeof since !== 'string') return null;
    return { pid, start: typeof start === 'string' ? start : null, host, since };
  } catch {
    return null;
  }
}

/** The lock of a file by its identity, shared by all its names (hard links). */
export function identityLockPath(file: { dev: number; ino: number }): string {
  return join(tmpdir(), `batch-llm-${file.dev}-${file.ino}.lock`);
}

export interface RunLock {
  readonly path: string;
  /** Removes the lock (idempotent, synchronous so that it can run on the way out of the process). */
  release(): void;
}

/**
 * Takes the lock at `path`, taking over a stale one. Throws FileLockedError naming the live owner;
 * other errors (no permission, no directory) are thrown as they come.
 */
export function takeLock(path: string): RunLock {
  const me: LockOwner = { pid: process.pid, start: startTimeOf(process.pid), host: hostname(), since: new Date().toISOString() };
  for (let tries = 0; ; tries += 1) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 3) throw error;
      const owner = readOwner(path);
      // A lock being written this very moment reads as nothing: give its writer the benefit.
      if (owner !== null && alive(owner)) throw new FileLockedError(path, owner);
      if (owner === null && tries === 0) continue;
      try {
        unlinkSync(path);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError;
      }
      continue;
    }
    writeSync(fd, `${JSON.stringify(me)}\n`);
    closeSync(fd);
    let held = true;
    return {
      path,
      release: () => {
        if (!held) return;
        held = false;
        try {
          if (readOwner(path)?.pid === me.pid) unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      },
    };
  }
}
