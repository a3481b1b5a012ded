/**
 * The body of a successful answer, for each of the simulator's four endpoints, shaped like
 * OpenAI's: a `chat.completion` (completion.ts), a `text_completion`, a `list` of embeddings with
 * `usage: {prompt_tokens, total_tokens}`, and a Responses API `response` with `output` messages and
 * `usage: {input_tokens, output_tokens, …}`. Text answers come from reply-content.ts, vectors from
 * embedding-vector.ts; an answer longer than the request's cap stops there (finish_reason
 * "length", or the response `incomplete`). A `malformed` answer is a 200 that is not a result of
 * its endpoint (its result array empty), as a broken proxy sends.
 */
import type { ChatRequest } from './chat-request.js';
import { buildCompletion } from './completion.js';
import { base64Vector, embeddingVector } from './embedding-vector.js';
import { replyContent, type ContentKind } from './reply-content.js';

export interface AnswerInput {
  readonly request: ChatRequest;
  /** Arrival number of the request: its ids. */
  readonly seq: number;
  /** The simulator's model, when the request names none. */
  readonly model: string;
  readonly seed: number;
  /** The simulator's completionTokens (capped by the request's own cap). */
  readonly completionTokens: number;
  /** The simulator's embeddingDimensions (the request's `dimensions` wins). */
  readonly embeddingDimensions: number;
  /** Epoch seconds. */
  readonly created: number;
  readonly invalidJson: boolean;
  readonly violateSchema: boolean;
  readonly malformed: boolean;
}

export interface Answer {
  readonly body: Record<string, unknown>;
  readonly content: ContentKind;
}

function embeddings(input: AnswerInput): Answer {
  const { request, seed } = input;
  const spec = request.embeddings ?? { inputs: [request.key], dimensions: undefined, base64: false };
  const dimensions = spec.dimensions ?? input.embeddingDimensions;
  const data = input.malformed
    ? []
    : spec.inputs.map((text, index) => {
        const vector = embeddingVector(text, seed, dimensions);
        return { object: 'embedding', index, embedding: spec.base64 ? base64Vector(vector) : vector };
      });
  return {
    content: input.malformed ? 'malformed' : 'embedding',
    body: {
      object: 'list',
      data,
      model: request.model ?? input.model,
      usage: { prompt_tokens: request.promptTokens, total_tokens: request.promptTokens },
    },
  };
}

export function buildAnswer(input: AnswerInput): Answer {
  const { request } = input;
  if (request.endpoint === 'embeddings') return embeddings(input);
  const completionTokens = Math.min(input.completionTokens, request.maxTokens ?? Infinity);
  const reply = replyContent({
    format: request.responseFormat,
    key: request.key,
    seed: input.seed,
    completionTokens,
    invalidJson: input.invalidJson,
    violateSchema: input.violateSchema,
  });
  // An answer longer than the request's cap stops there, as a model's does: a JSON answer is cut
  // in the middle (a text answer is already that short).
  const cutOff = completionTokens < input.completionTokens;
  const content = cutOff && reply.kind !== 'text' ? reply.content.slice(0, Math.ceil(reply.content.length / 2)) : reply.content;
  const model = request.model ?? input.model;
  const { promptTokens, endpoint } = request;
  const finishReason = cutOff ? 'length' : 'stop';
  if (endpoint === 'chat') {
    const body = buildCompletion({ seq: input.seq, model, content, promptTokens, completionTokens, finishReason, created: input.created });
    return input.malformed ? { content: 'malformed', body: { ...body, choices: [] } } : { content: reply.kind, body: { ...body } };
  }
  const kind = input.malformed ? 'malformed' : reply.kind;
  if (endpoint === 'completions') {
    return {
      content: kind,
      body: {
        id: `cmpl-sim-${input.seq}`,
        object: 'text_completion',
        created: input.created,
        model,
        choices: input.malformed ? [] : [{ text: content, index: 0, logprobs: null, finish_reason: finishReason }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      },
    };
  }
  const message = {
    type: 'message',
    id: `msg_sim_${input.seq}`,
    status: cutOff ? 'incomplete' : 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text: content, annotations: [] }],
  };
  return {
    content: kind,
    body: {
      id: `resp_sim_${input.seq}`,
      object: 'response',
      created_at: input.created,
      status: cutOff ? 'incomplete' : 'completed',
      incomplete_details: cutOff ? { reason: 'max_output_tokens' } : null,
      error: null,
      model,
      output: input.malformed ? [] : [message],
      usage: {
        input_tokens: promptTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: completionTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: promptTokens + completionTokens,
      },
    },
  };
}
