/**
 * The simulator's Batch API: `POST /v1/files` (multipart, purpose `batch`), `GET /v1/files/{id}`,
 * `GET /v1/files/{id}/content`, `POST /v1/batches`, `GET /v1/batches/{id}`,
 * `POST /v1/batches/{id}/cancel`, shaped like OpenAI's. Everything is held in memory. A batch is
 * `in_progress` for `processingMs` (its request counts grow linearly meanwhile), then `completed`
 * — or `expired` when some of its lines were drawn to expire — with an output file of the answered
 * lines and an error file of the failed (500) and expired (`batch_expired`) ones. Answers are the
 * same answers as the online endpoints give (schema violations included, at
 * `schemaViolationRate`), for the batch's endpoint (any of the four; a line for another one is
 * refused with a 400, as OpenAI does); which lines fail or expire is drawn from the seed, so runs
 * repeat.
 */
import type { ServerResponse } from 'node:http';
import { requestId } from './completion.js';
import { buildAnswer } from './endpoint-answers.js';
import { parseModelRequest, simEndpointOf } from './endpoint-requests.js';
import { errorBody } from './error-body.js';
import type { ResolvedSimBatchOptions } from './batch-options.js';
import type { ResolvedSimOptions } from './options.js';
import { mulberry32 } from './prng.js';

/** What the Batch API has been asked, for tests: a live object. */
export interface SimBatchStats {
  filesCreated: number;
  batchesCreated: number;
  batchesCancelled: number;
  /** Request lines answered (output file), failed and expired (error file), over all batches. */
  linesAnswered: number;
  linesFailed: number;
  linesExpired: number;
}

interface StoredFile {
  id: string;
  purpose: string;
  filename: string;
  createdAt: number;
  content: string;
}

type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

interface StoredBatch {
  id: string;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  metadata: unknown;
  createdAt: number;
  /** Epoch ms when results are due. */
  dueAt: number;
  lines: number;
  status: BatchStatus;
  errors: { object: 'list'; data: Array<{ code: string; message: string; line: number | null }> } | null;
  outputFileId: string | null;
  errorFileId: string | null;
  completed: number;
  failed: number;
  endedAt: number | null;
  cancelledAt: number | null;
  seq: number;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

const seconds = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms / 1000));

export class SimBatchApi {
  readonly stats: SimBatchStats = { filesCreated: 0, batchesCreated: 0, batchesCancelled: 0, linesAnswered: 0, linesFailed: 0, linesExpired: 0 };
  readonly #config: ResolvedSimOptions;
  readonly #options: ResolvedSimBatchOptions;
  readonly #files = new Map<string, StoredFile>();
  readonly #batches = new Map<string, StoredBatch>();
  #next = 0;

  constructor(config: ResolvedSimOptions, options: ResolvedSimBatchOptions) {
    this.#config = config;
    this.#options = options;
  }

  /** Answers `method path` if it is one of the Batch API's; false when it is not. */
  handles(method: string, path: string): boolean {
    return (method === 'POST' && (path === '/v1/files' || path === '/v1/batches' || /^\/v1\/batches\/[^/]+\/cancel$/.test(path))) ||
      (method === 'GET' && /^\/v1\/(files|batches)\/[^/]+(\/content)?$/.test(path));
  }

  /** Serves one request that `handles` accepted; `body` is the raw request body. */
  async serve(method: string, path: string, contentType: string | undefined, body: Buffer, res: ServerResponse): Promise<void> {
    const parts = path.split('/').slice(2); // ['files' | 'batches', id?, 'content' | 'cancel'?]
    const [kind, id, action] = parts;
    if (kind === 'files' && method === 'POST') return this.#createFile(contentType, body, res);
    if (kind === 'files' && id !== undefined) {
      const file = this.#files.get(id);
      if (file === undefined) return sendJson(res, 404, errorBody(404, { message: `No such File object: ${id}`, code: null }));
      if (action === 'content') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(Buffer.byteLength(file.content)) });
        res.end(file.content);
        return;
      }
      return sendJson(res, 200, this.#fileObject(file));
    }
    if (kind === 'batches' && method === 'POST' && id === undefined) return this.#createBatch(body, res);
    const batch = id === undefined ? undefined : this.#batches.get(id);
    if (batch === undefined) return sendJson(res, 404, errorBody(404, { message: `No batch found with id '${id ?? ''}'.`, code: null }));
    if (action === 'cancel') {
      if (batch.status === 'in_progress' || batch.status === 'validating') {
        this.stats.batchesCancelled++;
        this.#finish(batch, Date.now(), 'cancelled');
      }
    } else {
      this.#advance(batch, Date.now());
    }
    sendJson(res, 200, this.#batchObject(batch));
  }

  async #createFile(contentType: string | undefined, body: Buffer, res: ServerResponse): Promise<void> {
    let form: FormData;
    try {
      // undici's multipart parser, the same that fetch uses; no hand-written boundary splitting.
      form = await new Response(body, { headers: { 'content-type': contentType ?? '' } }).formData();
    } catch (error) {
      return sendJson(res, 400, errorBody(400, { message: `Expected a multipart/form-data body: ${error instanceof Error ? error.message : String(error)}` }));
    }
    const purpose = form.get('purpose');
    const upload = form.get('file');
    if (purpose !== 'batch' || typeof upload === 'string' || upload === null) {
      return sendJson(res, 400, errorBody(400, { message: `Expected fields purpose=batch and a file, got purpose=${String(purpose)}`, param: 'purpose' }));
    }
    const file: StoredFile = { id: `file-sim-${++this.#next}`, purpose, filename: upload.name, createdAt: Date.now(), content: await upload.text() };
    this.#files.set(file.id, file);
    this.stats.filesCreated++;
    sendJson(res, 200, this.#fileObject(file));
  }

  #createBatch(body: Buffer, res: ServerResponse): void {
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, errorBody(400, { message: 'We could not parse the JSON body of your request.' }));
    }
    const inputFileId = request['input_file_id'];
    const file = typeof inputFileId === 'string' ? this.#files.get(inputFileId) : undefined;
    if (file === undefined) return sendJson(res, 400, errorBody(400, { message: `Invalid input_file_id: ${String(inputFileId)}`, param: 'input_file_id' }));
    const now = Date.now();
    const lines = file.content.split('\n').filter((line) => line.trim() !== '').length;
    const batch: StoredBatch = {
      id: `batch_sim_${++this.#next}`,
      endpoint: typeof request['endpoint'] === 'string' ? request['endpoint'] : '/v1/chat/completions',
      inputFileId: file.id,
      completionWindow: typeof request['completion_window'] === 'string' ? request['completion_window'] : '24h',
      metadata: request['metadata'] ?? null,
      createdAt: now,
      dueAt: now + this.#options.processingMs,
      lines,
      status: 'in_progress',
      errors: null,
      outputFileId: null,
      errorFileId: null,
      completed: 0,
      failed: 0,
      endedAt: null,
      cancelledAt: null,
      seq: this.#next,
    };
    if (lines > this.#options.maxRequestsPerFile) {
      batch.status = 'failed';
      batch.endedAt = now;
      batch.errors = { object: 'list', data: [{ code: 'too_many_requests', message: `The input file has ${lines} requests; at most ${this.#options.maxRequestsPerFile} are allowed.`, line: null }] };
    }
    this.#batches.set(batch.id, batch);
    this.stats.batchesCreated++;
    sendJson(res, 200, this.#batchObject(batch));
  }

  /** Moves a batch on to where the clock says it is: counts grow while in progress, results at the end. */
  #advance(batch: StoredBatch, now: number): void {
    if (batch.status !== 'in_progress') return;
    if (now >= batch.dueAt) {
      this.#finish(batch, now, 'completed');
      return;
    }
    const share = this.#options.processingMs === 0 ? 1 : (now - batch.createdAt) / this.#options.processingMs;
    batch.completed = Math.min(batch.lines, Math.floor(batch.lines * share));
  }

  /** Answers the lines (all of them, or on cancel the share done so far) and writes the output and error files. */
  #finish(batch: StoredBatch, now: number, end: 'completed' | 'cancelled'): void {
    const input = this.#files.get(batch.inputFileId)?.content ?? '';
    const share = end === 'completed' || this.#options.processingMs === 0 ? 1 : Math.min(1, (now - batch.createdAt) / this.#options.processingMs);
    const random = mulberry32(this.#config.seed * 7919 + batch.seq);
    const output: string[] = [];
    const errors: string[] = [];
    let expired = 0;
    let index = 0;
    const lines = input.split('\n').filter((line) => line.trim() !== '');
    const done = Math.floor(lines.length * share);
    for (const text of lines) {
      const seq = index++;
      const expire = random() < this.#options.expireRate;
      const fail = random() < this.#options.failRate;
      const violate = random() < this.#config.schemaViolationRate;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        batch.errors = { object: 'list', data: [...(batch.errors?.data ?? []), { code: 'invalid_json_line', message: 'This line is not valid JSON.', line: seq + 1 }] };
        continue;
      }
      const customId = typeof line['custom_id'] === 'string' ? line['custom_id'] : null;
      const id = `batch_req_sim_${batch.seq}_${seq}`;
      // A request the endpoint would refuse is refused whatever else happens to the line; as in
      // OpenAI's, every line must be for the batch's own endpoint.
      const url = typeof line['url'] === 'string' ? line['url'] : batch.endpoint;
      const endpoint = simEndpointOf(url);
      const parsed =
        url !== batch.endpoint || endpoint === undefined
          ? { ok: false as const, param: 'url', message: `The line's url ${JSON.stringify(url)} is not the batch's endpoint ${batch.endpoint}.` }
          : parseModelRequest(endpoint, JSON.stringify(line['body'] ?? null));
      if (!parsed.ok) {
        batch.failed++;
        errors.push(JSON.stringify({ id, custom_id: customId, response: { status_code: 400, request_id: requestId(seq), body: errorBody(400, { message: parsed.message, param: parsed.param }) }, error: null }));
        continue;
      }
      if (seq >= done) {
        errors.push(JSON.stringify({ id, custom_id: customId, response: null, error: { code: 'batch_cancelled', message: 'This request was not run: the batch was cancelled.' } }));
        continue;
      }
      if (expire) {
        expired++;
        errors.push(JSON.stringify({ id, custom_id: customId, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } }));
        continue;
      }
      if (fail) {
        batch.failed++;
        errors.push(JSON.stringify({ id, custom_id: customId, response: { status_code: 500, request_id: requestId(seq), body: errorBody(500) }, error: null }));
        continue;
      }
      const { request } = parsed;
      const jsonMode = request.responseFormat.type !== 'text';
      const { body } = buildAnswer({
        request,
        seq,
        model: this.#config.model,
        seed: this.#config.seed,
        completionTokens: this.#config.completionTokens,
        embeddingDimensions: this.#config.embeddingDimensions,
        created: Math.floor(now / 1000),
        invalidJson: false,
        violateSchema: jsonMode && violate,
        malformed: false,
      });
      output.push(JSON.stringify({ id, custom_id: customId, response: { status_code: 200, request_id: requestId(seq), body }, error: null }));
    }
    batch.completed = output.length;
    this.stats.linesAnswered += output.length;
    this.stats.linesFailed += batch.failed;
    this.stats.linesExpired += expired;
    batch.outputFileId = this.#store(`${batch.id}_output.jsonl`, output, now);
    batch.errorFileId = errors.length === 0 ? null : this.#store(`${batch.id}_error.jsonl`, errors, now);
    batch.status = end === 'cancelled' ? 'cancelled' : expired > 0 ? 'expired' : 'completed';
    batch.endedAt = now;
    if (end === 'cancelled') batch.cancelledAt = now;
  }

  #store(filename: string, lines: string[], now: number): string {
    const file: StoredFile = { id: `file-sim-${++this.#next}`, purpose: 'batch_output', filename, createdAt: now, content: lines.length === 0 ? '' : `${lines.join('\n')}\n` };
    this.#files.set(file.id, file);
    return file.id;
  }

  #fileObject(file: StoredFile): unknown {
    return { id: file.id, object: 'file', bytes: Buffer.byteLength(file.content), created_at: seconds(file.createdAt), filename: file.filename, purpose: file.purpose, status: 'processed' };
  }

  #batchObject(batch: StoredBatch): unknown {
    const ended = batch.endedAt;
    return {
      id: batch.id,
      object: 'batch',
      endpoint: batch.endpoint,
      errors: batch.errors,
      input_file_id: batch.inputFileId,
      completion_window: batch.completionWindow,
      status: batch.status,
      output_file_id: batch.outputFileId,
      error_file_id: batch.errorFileId,
      created_at: seconds(batch.createdAt),
      in_progress_at: batch.status === 'failed' ? null : seconds(batch.createdAt),
      expires_at: seconds(batch.createdAt + 24 * 3600 * 1000),
      finalizing_at: ended === null || batch.status === 'failed' ? null : seconds(ended),
      completed_at: batch.status === 'completed' ? seconds(ended) : null,
      failed_at: batch.status === 'failed' ? seconds(ended) : null,
      expired_at: batch.status === 'expired' ? seconds(ended) : null,
      cancelling_at: seconds(batch.cancelledAt),
      cancelled_at: seconds(batch.cancelledAt),
      request_counts: { total: batch.lines, completed: batch.completed, failed: batch.failed },
      metadata: batch.metadata,
    };
  }
}
