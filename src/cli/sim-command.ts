// `batch-llm sim`: the built-in OpenAI-compatible simulator as a standalone server, for rehearsing a
// run (latency, RPM/TPM limits with real 429s, random faults, the Batch API) before pointing at a
// paid endpoint.

import { Command } from 'commander';
import { SIM_DEFAULTS, type SimOptions } from '../sim/options.js';
import { decimal, duration, probability, wholeNumber } from './parse-values.js';
import { UsageError } from '../model/errors.js';

interface RawSimOptions {
  host?: string;
  port?: string;
  latency?: string;
  latencyJitter?: string;
  completionTokens?: string;
  embeddingDimensions?: string;
  seed?: string;
  model?: string;
  apiKey?: string;
  rpm?: string;
  tpm?: string;
  rateWindow?: string;
  errorRate?: string;
  error503Rate?: string;
  resetRate?: string;
  hangRate?: string;
  invalidJsonRate?: string;
  schemaViolationRate?: string;
  batchProcessing?: string;
  batchExpireRate?: string;
  batchFailRate?: string;
}

export interface SimIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Checks the raw values; throws UsageError naming the option and the value. */
export function parseSimOptions(raw: RawSimOptions): SimOptions {
  const rates = {
    error500: probability('--error-rate', raw.errorRate),
    error503: probability('--error503-rate', raw.error503Rate),
    reset: probability('--reset-rate', raw.resetRate),
    hang: probability('--hang-rate', raw.hangRate),
  };
  const sum = (rates.error500 ?? 0) + (rates.error503 ?? 0) + (rates.reset ?? 0) + (rates.hang ?? 0);
  if (sum > 1) throw new UsageError(`the fault rates add up to ${sum}; they are exclusive outcomes and must add up to at most 1`);
  const positive = (name: string, text: string | undefined): number | undefined => {
    const value = decimal(name, text);
    if (value !== undefined && value <= 0) throw new UsageError(`${name}: expected a number > 0, got ${JSON.stringify(text)}`);
    return value;
  };
  return {
    host: raw.host,
    port: wholeNumber('--port', raw.port),
    latencyMs: duration('--latency', raw.latency),
    latencyJitterMs: duration('--latency-jitter', raw.latencyJitter),
    completionTokens: wholeNumber('--completion-tokens', raw.completionTokens),
    embeddingDimensions: wholeNumber('--embedding-dimensions', raw.embeddingDimensions),
    seed: wholeNumber('--seed', raw.seed),
    model: raw.model,
    apiKey: raw.apiKey,
    rpm: positive('--rpm', raw.rpm),
    tpm: positive('--tpm', raw.tpm),
    rateWindowMs: duration('--rate-window', raw.rateWindow),
    invalidJsonRate: probability('--invalid-json-rate', raw.invalidJsonRate),
    schemaViolationRate: probability('--schema-violation-rate', raw.schemaViolationRate),
    faults: { rates },
    batch: {
      processingMs: duration('--batch-processing', raw.batchProcessing),
      expireRate: probability('--batch-expire-rate', raw.batchExpireRate),
      failRate: probability('--batch-fail-rate', raw.batchFailRate),
    },
    // A long-running server must not keep a record of every request.
    recordRequests: false,
  };
}

/** Starts the server and resolves once it has been stopped (SIGINT / SIGTERM). */
export async function simCommand(options: SimOptions, io: SimIO): Promise<number> {
  let simulator;
  try {
    const { startSimulator } = await import('../sim/server.js');
    simulator = await startSimulator(options);
  } catch (error) {
    // The simulator validates its options with TypeErrors that name the option; a busy port is EADDRINUSE.
    throw new UsageError(`cannot start the simulator: ${error instanceof Error ? error.message : String(error)}`);
  }
  io.stdout.write(`${simulator.url}\n`);
  io.stderr.write(
    `batch-llm sim: OpenAI-compatible simulator listening on ${simulator.url} (Ctrl-C to stop)\n` +
      `  try: batch-llm run examples/requests.jsonl -o results.jsonl --base-url ${simulator.url}\n`,
  );
  const sim = simulator;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.stderr.write(`batch-llm sim: stopping after ${sim.stats.requests} request(s)\n`);
      void sim.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

export function declareSimCommand(program: Command, action: (options: SimOptions) => Promise<void>): Command {
  return program
    .command('sim')
    .description('serve the built-in OpenAI-compatible simulator until Ctrl-C, printing its URL')
    .option('--host <host>', `interface to bind (default: ${SIM_DEFAULTS.host})`)
    .option('--port <n>', `TCP port; 0 picks a free one (default: ${SIM_DEFAULTS.port})`)
    .option('--latency <duration>', `time to answer each request: 0ms, 50ms, 2s (default: ${SIM_DEFAULTS.latencyMs}ms)`)
    .option('--latency-jitter <duration>', `extra random latency, uniform in [0, this) (default: ${SIM_DEFAULTS.latencyJitterMs}ms)`)
    .option('--completion-tokens <n>', `completion tokens per answer, capped by max_tokens (default: ${SIM_DEFAULTS.completionTokens})`)
    .option('--embedding-dimensions <n>', `components of each /v1/embeddings vector, unless the request sets dimensions (default: ${SIM_DEFAULTS.embeddingDimensions})`)
    .option('--seed <n>', `seed of every random decision: content, faults, jitter (default: ${SIM_DEFAULTS.seed})`)
    .option('--model <name>', `model id listed by GET /v1/models (default: ${SIM_DEFAULTS.model})`)
    .option('--api-key <key>', 'require this Bearer key, else 401 (default: none required)')
    .option('--rpm <n>', 'requests per minute before real 429s with retry-after-ms (default: unlimited)')
    .option('--tpm <n>', 'tokens per minute before 429s (default: unlimited)')
    .option('--rate-window <duration>', `sliding window of the RPM/TPM limits (default: ${SIM_DEFAULTS.rateWindowMs / 1000}s)`)
    .option('--error-rate <p>', 'probability of a 500 server_error, e.g. 0.05 (default: 0)')
    .option('--error503-rate <p>', 'probability of a 503 overloaded (default: 0)')
    .option('--reset-rate <p>', 'probability of dropping the connection without an answer (default: 0)')
    .option('--hang-rate <p>', 'probability of never answering (default: 0)')
    .option('--invalid-json-rate <p>', 'probability that a JSON-mode answer is not JSON (default: 0)')
    .option('--schema-violation-rate <p>', 'probability that a JSON-mode answer violates its schema (default: 0)')
    .option('--batch-processing <duration>', 'Batch API: time a batch stays in progress before its results are ready (default: 1s)')
    .option('--batch-expire-rate <p>', 'Batch API: probability that a line expires unanswered (default: 0)')
    .option('--batch-fail-rate <p>', 'Batch API: probability that a line fails with a 500 in the error file (default: 0)')
    .addHelpText(
      'after',
      `
The URL (ending in /v1) is printed on stdout; pass it to batch-llm run --base-url, or to any
OpenAI client. Exit codes: 0 stopped by Ctrl-C, 2 usage error (or the port is taken).`,
    )
    .action(async (raw: RawSimOptions) => {
      await action(parseSimOptions(raw));
    });
}
