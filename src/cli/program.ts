// The batch-llm command: wires the commands to commander and maps outcomes to exit codes.
// Each command lives in its own file (run-command.ts, sim-command.ts); the entry is main.ts.

import { Command, CommanderError } from 'commander';
import { flagValue } from './argv-flag.js';
import { EXIT } from './exit-codes.js';
import { declareRunCommand, EXIT_CODES_HELP } from './run-options.js';
import { runCommand } from './run-command.js';
import { declareSimCommand, simCommand } from './sim-command.js';
import { declareCacheCommand } from './cache-command.js';
import { declareReportCommand, reportCommand } from './report-command.js';
import { compactCommand, declareCompactCommand } from './compact-command.js';
import { declareWorkerCommand, workerCommand } from './worker-command.js';
import { UsageError } from '../model/errors.js';
import { redactAll, secretList, urlSecretsIfAny } from '../model/redact.js';
import { packageVersion } from '../model/version.js';
import type { PrestartedPool } from '../pool/prestart.js';

async function main(argv: readonly string[], earlyThreads: PrestartedPool | null): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('batch-llm')
    .description('Run very large batches of LLM requests against any OpenAI-compatible endpoint.')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride();
  declareRunCommand(program, async (settings) => {
    exitCode = await runCommand(settings, { env: process.env, stderr: process.stderr, earlyThreads });
  }).exitOverride();
  declareWorkerCommand(program, async (settings) => {
    exitCode = await workerCommand(settings, { stderr: process.stderr });
  }).exitOverride();
  declareSimCommand(program, async (options) => {
    exitCode = await simCommand(options, { stdout: process.stdout, stderr: process.stderr });
  }).exitOverride();
  declareReportCommand(program, async (settings) => {
    exitCode = await reportCommand(settings, { stdout: process.stdout, stderr: process.stderr });
  }).exitOverride();
  declareCompactCommand(program, async (settings) => {
    exitCode = await compactCommand(settings, { stderr: process.stderr });
  }).exitOverride();

  declareCacheCommand(program, process.stdout).exitOverride();

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; every parse error is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`batch-llm: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

/** Secrets that must not appear even in an unexpected error's text: the key, and those of the endpoint's and Redis' URLs. */
function secrets(argv: readonly string[]): string[] {
  const { env } = process;
  return secretList(env['OPENAI_API_KEY'], flagValue(argv, '--api-key'), ...urlSecretsIfAny(flagValue(argv, '--base-url') ?? env['OPENAI_BASE_URL']), ...urlSecretsIfAny(flagValue(argv, '--redis')));
}

function finish(code: number): void {
  process.exitCode = code;
  // Everything is closed by now and the process should end by itself; should some handle linger
  // (a socket of a misbehaving server), this unref'd timer ends it without keeping it alive.
  setTimeout(() => process.exit(code), 2_000).unref();
}

// A reader that goes away (`batch-llm run --help | head -3`) closes standard output under us:
// end quietly, as Unix tools do, rather than crash with a stack trace on the pipe's unhandled
// 'error'. Only standard output: results, checkpoints and logs go to files or stderr.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? EXIT.ok);
});

/**
 * Runs the command in `argv` and sets the process's exit code. `earlyThreads`: the threads the
 * entry started for a `run` (early-threads.ts); whatever the command did with them, they end here.
 */
export async function runProgram(argv: readonly string[], earlyThreads: PrestartedPool | null): Promise<void> {
  let code: number;
  try {
    code = await main(argv, earlyThreads);
  } catch (error: unknown) {
    let text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    text = redactAll(text, secrets(argv));
    process.stderr.write(`batch-llm: unexpected error (a bug; please report it): ${text}\n`);
    code = EXIT.internal;
  }
  // Closed already by a run that adopted them (close is idempotent); a usage error, --help or
  // another command leaves them to end here.
  await earlyThreads?.close().catch(() => {});
  finish(code);
}
