// The files a run touches, checked before anything is opened for writing: the input, the results
// file (--out), its meta file and --summary. No two may be one file — compared by device and
// inode, so a symlink or a hard link to the input is caught, not only the same spelling — and each
// output must be writable where it is. Every refusal is a UsageError (exit 2) naming the path and
// the reason, found before the first request rather than as a stack trace hours later.

import { constants, fstatSync, type Stats } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../model/errors.js';

export interface RunPaths {
  input: string;
  out: string;
  meta: string;
  summary: string | undefined;
}

/**
 * What the input is: a file read twice (scan, then run), a stream read once from its path (a
 * FIFO), or this process's standard input (`-`, or a path such as /dev/stdin that is it: a socket
 * there cannot be opened by name, so it is read from the descriptor).
 */
export type InputKind = 'file' | 'stream' | 'stdin';

function isStdin(info: Stats): boolean {
  try {
    const stdin = fstatSync(0);
    return stdin.dev === info.dev && stdin.ino === info.ino;
  } catch {
    return false;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function reason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  return message;
}

async function statOrNull(path: string, role: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`${role} ${path}: cannot use it: ${reason(error)}`);
  }
}

/** The path with its directory's symlinks resolved: how two spellings of a file not yet made compare. */
async function canonical(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return join(await realpath(dirname(absolute)), basename(absolute));
  } catch {
    return absolute;
  }
}

interface Role {
  role: string;
  path: string;
  info: Stats | null;
  canonical: string;
}

function sameFile(a: Role, b: Role): boolean {
  if (a.info !== null && b.info !== null) return a.info.dev === b.info.dev && a.info.ino === b.info.ino;
  return a.canonical === b.canonical;
}

/** An output's directory must exist and be writable; an existing output must be a writable regular file. */
async function checkWritable(output: Role): Promise<void> {
  if (output.info !== null) {
    if (!output.info.isFile()) {
      throw new UsageError(`${output.role} ${output.path}: is ${output.info.isDirectory() ? 'a directory' : 'not a regular file'}`);
    }
    await access(output.path, constants.W_OK).catch((error: unknown) => {
      throw new UsageError(`${output.role} ${output.path}: cannot write it: ${reason(error)}`);
    });
    return;
  }
  const directory = dirname(resolve(output.path));
  await access(directory, constants.W_OK).catch((error: unknown) => {
    throw new UsageError(`${output.role} ${output.path}: cannot create it in ${directory}: ${reason(error)}`);
  });
}

/**
 * Checks the run's paths; resolves with what the input is. `-` is standard input. Throws
 * UsageError when two of them are one file or an output cannot be written where it is.
 */
export async function checkRunPaths(paths: RunPaths): Promise<InputKind> {
  const outputs: Role[] = [];
  for (const [role, path] of [['--out', paths.out], ['the meta file of --out', paths.meta], ['--summary', paths.summary]] as const) {
    if (path === undefined) continue;
    outputs.push({ role, path, info: await statOrNull(path, role), canonical: await canonical(path) });
  }
  let kind: InputKind = 'file';
  if (paths.input !== '-') {
    // A missing, unreadable or directory input is refused here, before the lock is taken.
    const info = await stat(paths.input).catch((error: unknown) => {
      throw new UsageError(`cannot read the input file ${paths.input}: ${errorMessage(error)}`);
    });
    if (info.isDirectory()) throw new UsageError(`cannot read the input file ${paths.input}: EISDIR: it is a directory`);
    await access(paths.input, constants.R_OK).catch((error: unknown) => {
      throw new UsageError(`cannot read the input file ${paths.input}: ${errorMessage(error)}`);
    });
    if (info.isFIFO() || info.isCharacterDevice() || info.isSocket()) kind = isStdin(info) ? 'stdin' : 'stream';
    if (info.isFile()) {
      const input: Role = { role: 'the input', path: paths.input, info, canonical: await canonical(paths.input) };
      for (const output of outputs) {
        if (sameFile(output, input)) {
          throw new UsageError(
            `${output.role} ${output.path} is the input file ${paths.input} (the same file under another name): writing it would destroy the input; write elsewhere`,
          );
        }
      }
    }
  } else {
    kind = 'stdin';
  }
  outputs.forEach((a, i) => {
    for (const b of outputs.slice(i + 1)) {
      if (sameFile(a, b)) throw new UsageError(`${b.role} ${b.path} is ${a.role} ${a.path} (the same file): one would overwrite the other; name another file`);
    }
  });
  for (const output of outputs) await checkWritable(output);
  return kind;
}

/**
 * `<out>.lock`, next to the file itself: a symlinked --out and its target share one lock. (A hard
 * link under another name would not: the run also locks the file by identity, run-lock.ts.)
 */
export async function lockPathFor(out: string): Promise<string> {
  const real = await realpath(out).catch(() => canonical(out));
  return `${real}.lock`;
}
