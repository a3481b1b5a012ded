/**
 * OpenAI-shaped error bodies: `{"error": {"message", "type", "param", "code"}}`. Clients (the openai
 * library among them) read `type` and `code` to tell a rate limit from an exhausted quota.
 */

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface ErrorShape {
  readonly message: string;
  readonly type: string;
  readonly code: string | null;
}

const QUOTA: ErrorShape = {
  message:
    'You exceeded your current quota, please check your plan and billing details. (batch-llm simulator)',
  type: 'insufficient_quota',
  code: 'insufficient_quota',
};

/** The usual body for a status, as OpenAI sends it. */
function shapeFor(status: number): ErrorShape {
  switch (status) {
    case 400:
      return { message: 'Invalid request (batch-llm simulator).', type: 'invalid_request_error', code: null };
    case 401:
      return {
        message: 'Incorrect API key provided. (batch-llm simulator)',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      };
    case 402:
      return QUOTA;
    case 403:
      return {
        message: 'You are not allowed to make this request. (batch-llm simulator)',
        type: 'invalid_request_error',
        code: null,
      };
    case 404:
      return {
        message: 'The model does not exist. (batch-llm simulator)',
        type: 'invalid_request_error',
        code: 'model_not_found',
      };
    case 429:
      return {
        message: 'Rate limit reached for requests (batch-llm simulator). Please try again later.',
        type: 'requests',
        code: 'rate_limit_exceeded',
      };
    case 503:
      return {
        message: 'The server is overloaded, please try again later. (batch-llm simulator)',
        type: 'server_error',
        code: null,
      };
    default:
      return status >= 500
        ? {
            message: 'The server had an error while processing your request. Sorry about that! (batch-llm simulator)',
            type: 'server_error',
            code: 'server_error',
          }
        : {
            message: `Request failed with status ${status} (batch-llm simulator).`,
            type: 'invalid_request_error',
            code: null,
          };
  }
}

export interface ErrorDetails {
  /** Replaces the usual `error.code`; `"insufficient_quota"` also switches to the quota message and type. */
  readonly code?: string | null | undefined;
  readonly message?: string | undefined;
  readonly type?: string | undefined;
  readonly param?: string | null | undefined;
}

export function errorBody(status: number, details: ErrorDetails = {}): ErrorBody {
  const shape = details.code === 'insufficient_quota' ? QUOTA : shapeFor(status);
  return {
    error: {
      message: details.message ?? shape.message,
      type: details.type ?? shape.type,
      param: details.param ?? null,
      code: details.code === undefined ? shape.code : details.code,
    },
  };
}

/** True when a response with this status and code is a rate limit (not an exhausted quota). */
export function isRateLimit(status: number, code: string | null): boolean {
  return status === 429 && code !== 'insufficient_quota';
}
