// The package version, read from package.json (found by walking up: the module sits at
// src/model/ when run from source and at dist/src/model/ when built). The User-Agent names it.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg: unknown = JSON.parse(readFileSync(candidate, 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'batch-llm' && 'version' in pkg) {
        return String(pkg.version);
      }
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
