// The baselines, by name, for scenarios that run several of them on the same workload.
import * as bottleneck from '../baselines/bottleneck-openai.js';
import * as pLimit from '../baselines/p-limit-openai.js';
import * as pQueue from '../baselines/p-queue-openai.js';
import type { BaselineOptions, BaselineResult } from './baseline.js';

export interface Baseline {
  name: string;
  run(options: BaselineOptions): Promise<BaselineResult>;
}

export const BASELINES = { 'p-limit': pLimit, 'p-queue': pQueue, bottleneck } as const satisfies Record<string, Baseline>;
export type BaselineId = keyof typeof BASELINES;
