/** The `chat.completion` object the simulator answers with, shaped like OpenAI's. */

export interface CompletionInput {
  /** Arrival number of the request; gives the id `chatcmpl-sim-<seq>`. */
  readonly seq: number;
  readonly model: string;
  readonly content: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** "length" when the request's max_tokens cut the answer short. @default "stop" */
  readonly finishReason?: 'stop' | 'length';
  /** Epoch seconds. */
  readonly created: number;
}

export interface ChatCompletionBody {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: [
    {
      index: 0;
      message: { role: 'assistant'; content: string; refusal: null };
      logprobs: null;
      finish_reason: 'stop' | 'length';
    },
  ];
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details: { cached_tokens: number };
    completion_tokens_details: { reasoning_tokens: number };
  };
}

export function buildCompletion(input: CompletionInput): ChatCompletionBody {
  return {
    id: `chatcmpl-sim-${input.seq}`,
    object: 'chat.completion',
    created: input.created,
    model: input.model,
    system_fingerprint: 'fp_batch_llm_sim',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: input.content, refusal: null },
        logprobs: null,
        finish_reason: input.finishReason ?? 'stop',
      },
    ],
    usage: {
      prompt_tokens: input.promptTokens,
      completion_tokens: input.completionTokens,
      total_tokens: input.promptTokens + input.completionTokens,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  };
}

/** The `x-request-id` of a request, as OpenAI spells its own (`req_…`). */
export function requestId(seq: number): string {
  return `req_sim_${seq}`;
}
