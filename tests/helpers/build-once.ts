// Vitest global setup: builds dist/ once, before any test file runs. The CLI's end-to-end test
// files spawn the built bin; were each to rebuild in its own beforeAll, one file's tsc would be
// rewriting dist/ while another file's CLI process loads it, and that process would crash.

import { build } from '../cli/helpers.js';

export default async function setup(): Promise<void> {
  await build();
}
