/** The built-in OpenAI-compatible simulator: public API. */
export { startSimulator, type Simulator } from './server.js';
export type { SimCause, SimOutcome, SimRequestRecord, SimStats } from './request-record.js';
export type { ContentKind } from './reply-content.js';
export {
  resolveSimOptions,
  SIM_DEFAULTS,
  type FaultOptions,
  type FaultRates,
  type HoldStormSpec,
  type LullSpec,
  type RateLimitHint,
  type RateLimitHintHeader,
  type ResolvedSimOptions,
  type ScriptedOutput,
  type ScriptStep,
  type ScriptStepSpec,
  type SimOptions,
  type StormSpec,
  type WindowStormSpec,
} from './options.js';
export { formatOpenAIDuration } from './rate-limit-headers.js';
export { instanceFromSchema, violateSchema } from './json-from-schema.js';
export type { SimBatchStats } from './batch-api.js';
export { resolveSimBatchOptions, type SimBatchOptions } from './batch-options.js';
