// Loading a task file, TypeScript or JavaScript, in whichever thread needs it.

import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TaskLoadError } from '../model/errors.js';
import { isTask, type Task } from './task.js';


/** The file's default export, checked to be a task. Throws TaskLoadError naming the file. */
export async function loadTask(file: string): Promise<Task> {
  const path = resolve(file);
  const url = pathToFileURL(path).href;
  let module: { default?: unknown };
  try {
    module = (await import(url)) as { default?: unknown };
  } catch (error) {
    // A TypeScript task outside a TypeScript-aware module loader (the built CLI on plain Node, or
    // a worker thread, where Node 20 does not apply `--import tsx` to dynamic imports): load it
    // through tsx's scoped loader instead. Under vitest or tsx the first import already works.
    if ((error as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw loadError(path, error);
    try {
      const { tsImport } = await import('tsx/esm/api');
      module = (await tsImport(url, import.meta.url)) as { default?: unknown };
    } catch (retryError) {
      throw loadError(path, retryError);
    }
  }
  if (!isTask(module.default)) {
    throw new TaskLoadError(`task ${basename(path)}: expected a default export made by defineTask(), got ${describe(module.default)}`);
  }
  return module.default;
}

function loadError(path: string, error: unknown): TaskLoadError {
  return new TaskLoadError(`task ${basename(path)} could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
}

function describe(value: unknown): string {
  return value === undefined ? 'no default export' : `${typeof value}`;
}
