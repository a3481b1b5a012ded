// batch-api/ (floor between run/ and cli/): running a JSONL input through the provider's Batch API
// (`--via batch-api`) instead of request by request. It owns splitting into input files
// (batch-parts.ts), submission and polling with the official openai client, reading the output
// and error files back into the engine's outcomes (batch-lines.ts), and the state that lets
// `--resume` re-attach (batch-state.ts). It writes the same results file as an online run, one
// line per item, through io/, and finishes what the batch could not — expired lines with
// --finish-online, answers that fail the task's schema — online through run/'s streamBatch. It
// imports io/, run/, task/, attempt/ (classification), model/; only cli/ and index.ts import it.
//
// The loop, the same for a new run and a resumed one: wait for every recorded batch that is not
// yet collected and write its final lines; then sweep the input: an item without a line is either
// never submitted (a crash mid-submission), or worth another try (expired, 5xx, 429). Those go
// into the next round's batches — or online with --finish-online, after the last round, and
// always for a schema re-ask. A line that is worth another try is not written until its last
// try, so the results file holds exactly one line per item. A batch id is written to
// `<out>.meta.json` before anything waits on it: a kill -9 at any point loses nothing, and a
// resume never submits a line that is already in a batch that was recorded.

import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import { metaPathFor } from '../io/checkpoint.js';
import { readInput, type LineMode } from '../io/input.js';
import { DEFAULT_URL, ENDPOINT_URLS, endpointOfUrl, type Endpoint } from '../model/endpoint.js';
import { invalidInputLine, ResultFile, resultLine, serializeLine } from '../io/output.js';
import { costOf, type PriceTable } from '../model/cost.js';
import { toResult } from '../model/item-result.js';
import { failedOutcome, type BatchItem, type ErrorCategory, type ItemOutcome } from '../model/outcome.js';
import { isRecord } from '../model/records.js';
import { addUsage, emptyUsage, type Usage } from '../model/usage.js';
import type { BatchOptions } from '../run/options.js';
import { streamBatch } from '../run/run-batch.js';
import type { BatchSummary } from '../run/summary.js';
import { askForSchema, checkAnswer, responseFormat, schemaEndpointProblem } from '../task/answer.js';
import { loadTask } from '../task/task-loader.js';
import type { Task } from '../task/task.js';
import { readProviderLine, worthAnotherTry } from './batch-lines.js';
import { PartBuilder, type Part, type PartLimits } from './batch-parts.js';
import { emptyState, writeBatchState, type BatchState, type SubmittedPart } from './batch-state.js';

/** Task stages here have no item deadline (the provider's batch has its own window): a signal that never aborts. */
const NO_DEADLINE = new AbortController().signal;

export interface BatchApiPlan {
  input: string;
  out: string;
  lineMode: LineMode;
  /** The endpoint of lines that name none (short form, no url, records). @default "chat" */
  endpoint?: Endpoint | undefined;
  /** The engine's options, all but `items`: endpoint, key, model, task, prices … (online runs use all of them). */
  engine: Omit<BatchOptions, 'items'> & { baseURL: string };
  /** What an earlier run of the same command submitted (from `<out>.meta.json`), or null. */
  state: BatchState | null;
  /** Run lines the batch could not answer (expired, 5xx, 429) online instead of resubmitting them. */
  finishOnline: boolean;
  /** Between two looks at the batches in progress, in ms. */
  pollIntervalMs: number;
  /** Submission rounds at most; after the last, unanswered lines fail (or run online with finishOnline). */
  maxRounds: number;
  limits: PartLimits;
  /** Share of the online price the Batch API charges (OpenAI: 0.5). */
  discount: number;
  fsync: boolean;
  /** Removes secrets from any text before it is written. */
  clean: (text: string) => string;
  /** Progress and notices, one line each. */
  log: (line: string) => void;
}

export interface BatchApiOutcome {
  summary: BatchSummary;
  /** Items whose lines were already in the results file (from before a resume). */
  skipped: number;
  /** Invalid input lines (their lines are written, they are not in the engine's counts). */
  invalid: number;
  batch: { rounds: number; batches: number; lines_submitted: number; online_items: number };
  /** Tokens answered through batches and online, for the cost comparison. */
  tokens: { batch: Usage; online: Usage };
}

const TERMINAL = new Set(['completed', 'expired', 'failed', 'cancelled']);

/** Ids with a line in the results file already. */
async function idsWithLines(out: string): Promise<Set<string>> {
  const ids = new Set<string>();
  try {
    for await (const record of readInput(out, { mode: 'records' })) {
      if (record.kind === 'item') ids.add(record.item.custom_id);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return ids;
}

export async function runViaBatchApi(plan: BatchApiPlan): Promise<BatchApiOutcome> {
  const started = performance.now();
  const { engine, clean, log } = plan;
  const metaPath = metaPathFor(plan.out);
  const state: BatchState = plan.state ?? emptyState();
  const task: Task | null = engine.task === undefined ? null : await loadTask(engine.task);
  const format = task?.schema ? responseFormat(task.schema, task.schemaName ?? 'answer') : null;
  // The whole openai client is loaded here, not with the package: it takes ~75–100 ms to import,
  // which a program that imports batch-llm for online runs only must not pay.
  const { default: OpenAIClient, toFile } = await import('openai');
  // The control calls may retry (they are reads, or uploads nobody pays for) — but not
  // batches.create: a retry after a lost answer could submit the batch twice.
  // The base URL's query goes with every call as the client's defaultQuery: appended to its
  // baseURL, the client would put the paths after the query.
  const base = new URL(engine.baseURL);
  const defaultQuery = Object.fromEntries(base.searchParams);
  base.search = '';
  const client = new OpenAIClient({ baseURL: base.toString(), defaultQuery, apiKey: engine.apiKey ?? 'no-key', maxRetries: 2, timeout: 600_000 });
  const file = new ResultFile(plan.out, { fsync: plan.fsync });
  const written = await idsWithLines(plan.out);
  const skipped = written.size;
  const byCategory: Partial<Record<ErrorCategory, number>> = {};
  const tokens = { batch: emptyUsage(), online: emptyUsage() };
  let total = 0;
  let succeeded = 0;
  let invalid = 0;
  let requests = 0;
  let linesSubmitted = 0;
  let onlineItems = 0;
  /** Online items answered from the response cache (with `cache`), and their tokens. */
  let cached = 0;
  const saved = emptyUsage();
  /** Items to run online: schema re-asks (always) and, with finishOnline, what the batch could not answer. */
  const online = new Set<string>();
  /** The last failure of items worth another try, written if no try is left. */
  const lastFailure = new Map<string, ItemOutcome>();
  const lineOf = new Map<string, number>();
  /** The endpoint of every item that is not for chat (most inputs have none, or all of one kind). */
  const endpointOf = new Map<string, Endpoint>();
  /** Items, successes and tokens (batch and online apart: they are priced apart) by endpoint, for the summary. */
  const byEndpoint = new Map<Endpoint, { items: number; succeeded: number; batch: Usage; online: Usage }>();
  function endpointEntry(customId: string) {
    const endpoint = endpointOf.get(customId) ?? 'chat';
    let entry = byEndpoint.get(endpoint);
    if (entry === undefined) {
      entry = { items: 0, succeeded: 0, batch: emptyUsage(), online: emptyUsage() };
      byEndpoint.set(endpoint, entry);
    }
    return entry;
  }
  /** Counts tokens of a batch answer (or of an online one). */
  function spent(customId: string, usage: Usage, online: boolean): void {
    addUsage(online ? tokens.online : tokens.batch, usage);
    const entry = endpointEntry(customId);
    addUsage(online ? entry.online : entry.batch, usage);
  }

  function write(outcome: ItemOutcome, online = false): void {
    if (written.has(outcome.custom_id)) return;
    written.add(outcome.custom_id);
    total += 1;
    if (outcome.ok) succeeded += 1;
    else byCategory[outcome.error.category] = (byCategory[outcome.error.category] ?? 0) + 1;
    const entry = endpointEntry(outcome.custom_id);
    entry.items += 1;
    if (outcome.ok) entry.succeeded += 1;
    if (!online) spent(outcome.custom_id, outcome.stats.usage, false);
    file.append(clean(serializeLine(resultLine(toResult(outcome), lineOf.get(outcome.custom_id) ?? null))));
  }

  /** Validates and post-processes a batch answer as the item runner does online; null: re-ask it online. */
  async function finished(outcome: ItemOutcome): Promise<ItemOutcome | null> {
    if (!outcome.ok || task === null) return outcome;
    let value: unknown = outcome.body;
    if (task.schema) {
      const answer = checkAnswer(outcome.body, task.schema, endpointOf.get(outcome.custom_id) ?? 'chat');
      if (!answer.ok) return null;
      value = answer.value;
    }
    const post = task.postProcess;
    try {
      if (post) value = await post(value, { customId: outcome.custom_id, signal: NO_DEADLINE });
    } catch (error) {
      return failedOutcome(outcome.custom_id, 'task_error', `task ${task.name ?? 'task'}: postProcess threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { ...outcome, value };
  }

  async function linesOf(fileId: string | null | undefined): Promise<string[]> {
    if (fileId === null || fileId === undefined) return [];
    const text = await (await client.files.content(fileId)).text();
    return text.split('\n').filter((line) => line.trim() !== '');
  }

  async function collect(part: SubmittedPart, batch: OpenAI.Batches.Batch): Promise<void> {
    for (const text of [...(await linesOf(batch.output_file_id)), ...(await linesOf(batch.error_file_id))]) {
      const line = readProviderLine(text);
      if (line === null || written.has(line.customId)) continue;
      const { outcome } = line;
      if (!outcome.ok && worthAnotherTry(outcome.error.category)) {
        // Paid for if it carried usage: count it now, since its line may be written much later.
        spent(line.customId, outcome.stats.usage, false);
        lastFailure.set(line.customId, { ...outcome, stats: { ...outcome.stats, usage: emptyUsage() } });
        if (plan.finishOnline) online.add(line.customId);
        continue;
      }
      const done = await finished(outcome);
      if (done === null) {
        spent(line.customId, outcome.stats.usage, false);
        online.add(line.customId);
        continue;
      }
      write(done);
    }
    part.collected = true;
    await writeBatchState(metaPath, state);
  }

  async function waitForBatches(): Promise<void> {
    const since = Date.now();
    for (;;) {
      const open = state.parts.filter((part) => !part.collected);
      if (open.length === 0) return;
      let done = 0;
      let failed = 0;
      let lines = 0;
      const states = new Map<string, number>();
      for (const part of open) {
        const batch = await client.batches.retrieve(part.batch_id);
        if (TERMINAL.has(batch.status)) {
          await collect(part, batch);
          continue;
        }
        states.set(batch.status, (states.get(batch.status) ?? 0) + 1);
        done += batch.request_counts?.completed ?? 0;
        failed += batch.request_counts?.failed ?? 0;
        lines += batch.request_counts?.total ?? part.lines;
      }
      if (states.size === 0) continue;
      const shown = [...states].map(([status, count]) => `${count} ${status}`).join(', ');
      log(`batch API: ${shown}; ${done}/${lines} lines answered, ${failed} failed; ${Math.round((Date.now() - since) / 1000)} s`);
      await sleep(plan.pollIntervalMs);
    }
  }

  async function requestBody(item: BatchItem, endpoint: Endpoint): Promise<Record<string, unknown>> {
    const build = task?.buildRequest;
    const body = build ? await build(item.record ?? item.body ?? {}, { customId: item.custom_id, signal: NO_DEADLINE }) : item.body;
    if (!isRecord(body)) throw new Error(build ? 'buildRequest returned no object' : 'the item has no request body');
    const withModel = engine.model !== undefined && body['model'] === undefined ? { ...body, model: engine.model } : body;
    return format ? askForSchema(withModel, endpoint, format) : withModel;
  }

  async function submit(part: Part): Promise<void> {
    const upload = await client.files.create({
      file: await toFile(Buffer.from(`${part.lines.join('\n')}\n`), `batch-llm-round${state.rounds}-${state.parts.length + 1}.jsonl`),
      purpose: 'batch',
    });
    const batch = await client.batches.create(
      { input_file_id: upload.id, endpoint: part.url, completion_window: '24h', metadata: { batch_llm_round: String(state.rounds) } },
      { maxRetries: 0 },
    );
    state.parts.push({ round: state.rounds, model: part.model, ...(part.url !== DEFAULT_URL ? { url: part.url } : {}), lines: part.lines.length, input_file_id: upload.id, batch_id: batch.id, collected: false });
    await writeBatchState(metaPath, state);
    linesSubmitted += part.lines.length;
    requests += part.lines.length;
    log(`batch API: submitted ${batch.id} (${part.lines.length} lines, model ${part.model}, ${part.url}, round ${state.rounds})`);
  }

  async function runOnline(items: BatchItem[]): Promise<void> {
    if (items.length === 0) return;
    onlineItems += items.length;
    log(`batch API: running ${items.length} item(s) online`);
    const stream = streamBatch({ ...engine, items });
    for await (const result of stream) {
      const outcome: ItemOutcome = result.ok ? result : { ...result, error: { category: result.error.category, code: result.error.code, status: result.error.status, message: result.error.message } };
      spent(outcome.custom_id, outcome.stats.usage, true);
      write(outcome, true);
    }
    const online = stream.summary();
    requests += online.requests;
    cached += online.cached;
    addUsage(saved, online.saved_tokens);
  }

  let closeError: NodeJS.ErrnoException | null = null;
  try {
    // Input line numbers first: a resumed run writes lines of batches collected before its sweep.
    for await (const record of readInput(plan.input, { mode: plan.lineMode, endpoint: plan.endpoint ?? 'chat' })) {
      if (record.kind !== 'item') continue;
      lineOf.set(record.item.custom_id, record.line);
      const endpoint = endpointOfUrl(record.item.url);
      if (endpoint !== null && endpoint !== 'chat') endpointOf.set(record.item.custom_id, endpoint);
    }
    for (;;) {
      await waitForBatches();
      // The sweep: every item of the input without a line yet.
      const lastRound = state.rounds >= plan.maxRounds;
      // A line without a usable custom_id cannot be looked up in the results: write it on the first sweep only.
      const firstSweep = state.rounds === 0;
      const toOnline: BatchItem[] = [];
      const parts = new PartBuilder(plan.limits);
      let submitting = false;
      for await (const record of readInput(plan.input, { mode: plan.lineMode, endpoint: plan.endpoint ?? 'chat' })) {
        if (record.kind === 'invalid') {
          if (record.custom_id === null ? firstSweep : !written.has(record.custom_id)) {
            invalid += 1;
            if (record.custom_id !== null) written.add(record.custom_id);
            file.append(clean(serializeLine(invalidInputLine(record))));
          }
          continue;
        }
        const { item } = record;
        if (written.has(item.custom_id)) continue;
        if (online.has(item.custom_id) || (lastRound && plan.finishOnline)) {
          toOnline.push(item);
          continue;
        }
        if (lastRound) {
          write(lastFailure.get(item.custom_id) ?? failedOutcome(item.custom_id, 'timeout', `no answer after ${state.rounds} Batch API round(s)`, 'batch_expired'));
          continue;
        }
        const endpoint = endpointOf.get(item.custom_id) ?? 'chat';
        const refused = task?.schema ? schemaEndpointProblem(endpoint) : null;
        if (refused !== null) {
          write(failedOutcome(item.custom_id, 'invalid_input', `item ${JSON.stringify(item.custom_id)}: ${refused}`));
          continue;
        }
        let body: Record<string, unknown>;
        try {
          body = await requestBody(item, endpoint);
        } catch (error) {
          write(failedOutcome(item.custom_id, task?.buildRequest ? 'task_error' : 'invalid_input', error instanceof Error ? error.message : String(error)));
          continue;
        }
        const model = body['model'];
        if (typeof model !== 'string') {
          write(failedOutcome(item.custom_id, 'invalid_input', 'the request names no model (give one in the body or with --model): the Batch API needs one model per file'));
          continue;
        }
        if (!submitting) {
          submitting = true;
          state.rounds += 1;
        }
        const url = ENDPOINT_URLS[endpoint];
        const full = parts.add(model, JSON.stringify({ custom_id: item.custom_id, method: 'POST', url, body }), url);
        if (full !== null) await submit(full);
      }
      for (const part of parts.rest()) await submit(part);
      await runOnline(toOnline);
      online.clear();
      if (!submitting) break;
    }
  } finally {
    closeError = file.close();
  }
  // A sync that failed at the end (--fsync) fails the run like a failed write.
  if (closeError !== null) throw closeError;

  const all = emptyUsage();
  addUsage(all, tokens.batch);
  addUsage(all, tokens.online);
  const prices: PriceTable | undefined = engine.prices;
  const summary: BatchSummary = {
    total,
    succeeded,
    failed: total - succeeded,
    by_category: byCategory,
    requests,
    rate_limited: 0,
    cooldowns: 0,
    outages: 0,
    tokens: all,
    cost: prices ? costOf(tokens.batch, prices) * plan.discount + costOf(tokens.online, prices) : null,
    by_endpoint: Object.fromEntries(
      [...byEndpoint].map(([endpoint, entry]) => {
        const used = emptyUsage();
        addUsage(used, entry.batch);
        addUsage(used, entry.online);
        const cost = prices ? costOf(entry.batch, prices) * plan.discount + costOf(entry.online, prices) : null;
        return [endpoint, { items: entry.items, succeeded: entry.succeeded, tokens: used, cost }];
      }),
    ),
    latency_ms: null,
    wall_ms: performance.now() - started,
    stopped: null,
    series: null,
    cached,
    saved_tokens: saved,
    spend_cap: null,
    // Not yet computed for batch answers (task.score runs only in the online item runner).
    scores: null,
  };
  return {
    summary,
    skipped,
    invalid,
    batch: { rounds: state.rounds, batches: state.parts.length, lines_submitted: linesSubmitted, online_items: onlineItems },
    tokens,
  };
}
