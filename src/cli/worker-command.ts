// `batch-llm worker`: joins a distributed run (started by `batch-llm run … --redis …`) and works
// its chunks until the run is done; then exits 0. SIGTERM or Ctrl-C drains: no new chunk is
// taken, the chunks in hand finish. Settings come from the run; the API key from this machine's
// OPENAI_API_KEY.

import { Command } from 'commander';
import { DistributedRunError, OptionsError, UsageError } from '../model/errors.js';
import { wholeNumber } from './parse-values.js';
import { threadsDefault } from './run-options.js';
import { EXIT } from './exit-codes.js';

export interface WorkerSettings {
  redis: string;
  runId: string;
  threads: number | undefined;
  concurrency: number | undefined;
}

interface RawWorkerOptions {
  redis: string;
  runId: string;
  threads?: string;
  concurrency?: string;
}

export function declareWorkerCommand(program: Command, action: (settings: WorkerSettings) => Promise<void>): Command {
  return program
    .command('worker')
    .description('join a distributed run (batch-llm run … --redis …) and work its items until it is done')
    .requiredOption('--redis <url>', 'the run\'s Redis: redis://host:6379, rediss://… (TLS), unix:///path/redis.sock')
    .requiredOption('--run-id <id>', 'the run to join (the coordinator prints it)')
    .option('--threads <n>', `worker threads (default: as for run: ${threadsDefault()})`)
    .option('--concurrency <n>', 'items in progress at once in this process (default: the run\'s --concurrency)')
    .addHelpText('after', '\nSettings (endpoint, model, task, limits) come from the run; the API key from $OPENAI_API_KEY here.')
    .action(async (raw: RawWorkerOptions) => {
      await action({ redis: raw.redis, runId: raw.runId, threads: wholeNumber('--threads', raw.threads), concurrency: wholeNumber('--concurrency', raw.concurrency) });
    });
}

export async function workerCommand(settings: WorkerSettings, io: { stderr: NodeJS.WritableStream }): Promise<number> {
  const say = (message: string): void => void io.stderr.write(`batch-llm worker: ${message}\n`);
  // Loaded here, not with the CLI: bullmq and ioredis take a good part of a second to load, and
  // every other command (above all `run`, whose first request should leave quickly) goes without.
  const [{ runWorker }, { redactRedisUrl }] = await Promise.all([import('../distributed/run-worker.js'), import('../distributed/redis-connection.js')]);
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    say(`${signal}: draining (the chunks in hand finish, no new one is taken)`);
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const report = await runWorker({ ...settings, signal: stop.signal, log: say });
    say(`done: ${report.committed} item(s) committed, ${report.suppressed} late duplicate(s) suppressed`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof DistributedRunError || error instanceof OptionsError) throw new UsageError(`${error.message} (redis ${redactRedisUrl(settings.redis)})`);
    throw error;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
