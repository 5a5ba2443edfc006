import { RequestError, type Method, type RetryObject, type RetryOptions } from 'got';
import {
  MagentoApiError,
  MagentoAuthError,
  MagentoError,
  MagentoNetworkError,
  redactUrl,
  type MagentoParameters,
} from './errors.js';

/** Shared HTTP plumbing of the token exchange and the REST client: retry policy and error mapping. */

export interface RetryPolicy {
  limit: number;
  baseDelayMs: number;
  maxDelayMs?: number;
  /** Epoch ms after which no new attempt may start. */
  deadline?: () => number;
  /** false: a POST is only repeated when the store cannot have acted on it (see canRepeatPost). */
  repeatPost: boolean;
  /** Set when a retry was skipped because it would start after the deadline. */
  onDeadline?: () => void;
}

const RETRY_METHODS: Method[] = ['GET', 'HEAD', 'PUT', 'DELETE', 'POST'];
// 4xx are the caller's mistake and never retried, except 429 (rate limited).
const RETRY_STATUS = [429, 500, 502, 503, 504];
const RETRY_CODES = [
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTFOUND',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EADDRINUSE',
];
// The request never reached the store, so sending it again cannot do anything twice.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRINUSE']);

/** got `retry` options: exponential backoff with jitter, Retry-After honoured, a deadline respected. */
export function retryOptions(policy: RetryPolicy): Partial<RetryOptions> {
  return {
    limit: policy.limit,
    methods: RETRY_METHODS,
    statusCodes: RETRY_STATUS,
    errorCodes: RETRY_CODES,
    maxRetryAfter: 120_000,
    calculateDelay: ({ attemptCount, error, retryAfter, computedValue }: RetryObject) => {
      // got computed 0: over the limit, a status or code not listed, or Retry-After too long.
      if (computedValue === 0) return 0;
      if (!policy.repeatPost && error.options.method === 'POST' && !canRepeatPost(error)) return 0;
      const delay =
        error.response && retryAfter !== undefined && retryAfter > 0
          ? computedValue
          : backoff(attemptCount, policy.baseDelayMs, policy.maxDelayMs ?? 30_000);
      if (policy.deadline && Date.now() + delay > policy.deadline()) {
        policy.onDeadline?.();
        return 0;
      }
      return delay;
    },
  };
}

/** A 429 or 503 says the store did not process the request; a refused connection never sent it. */
function canRepeatPost(error: RequestError): boolean {
  const status = error.response?.statusCode;
  if (status !== undefined) return status === 429 || status === 503;
  return NOT_SENT_CODES.has(error.code);
}

/** base × 2^(attempt-1), capped, with "equal jitter" so clients that failed together spread out. */
export function backoff(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(exp / 2 + (Math.random() * exp) / 2));
}

/** Refuses to sign for another origin: the credentials belong to this store only. */
export function assertSameOrigin(url: URL, storeOrigin: string): void {
  if (url.origin !== storeOrigin) {
    throw new MagentoApiError({
      status: 0,
      url: redactUrl(url.href),
      rawMessage:
        `The store redirected to ${url.origin}, not ${storeOrigin}; the request was not signed for it. ` +
        `If the store moved (for example to https), use ${url.origin} in the store base URL.`,
    });
  }
}

/** got's error (or one thrown by our hooks) as a typed MagentoError. */
export function toMagentoError(error: unknown, kind: 'rest' | 'token', timeoutMs: number): unknown {
  if (!(error instanceof RequestError)) return error;
  // Errors thrown inside hooks come back wrapped.
  if (error.cause instanceof MagentoError || error.cause instanceof TypeError) return error.cause;
  const url = redactUrl(error.options?.url?.toString() ?? '');
  const response = error.response;
  if (!response) {
    const origin = safeOrigin(url);
    const message =
      error.code === 'ETIMEDOUT'
        ? `The store at ${origin} did not answer within ${timeoutMs} ms.`
        : `Could not reach the store at ${origin} (${error.code}: ${error.message}). ` +
          'Check the store base URL and that the store is up.';
    return new MagentoNetworkError(message, error.code, url, { cause: error });
  }
  const body = typeof response.body === 'string' ? response.body : String(response.body ?? '');
  const status = response.statusCode;
  const answer = kind === 'token' ? tokenAnswer(body, status) : restAnswer(body, status);
  const full = { ...answer, status, url };
  return status === 401
    ? new MagentoAuthError(full, { cause: error })
    : new MagentoApiError(full, { cause: error });
}

function tokenAnswer(body: string, status: number): { rawMessage: string; problem?: string } {
  const problem = new URLSearchParams(body).get('oauth_problem');
  if (problem !== null) return { rawMessage: problem, problem };
  return { rawMessage: `The store answered HTTP ${status} without an oauth_problem: ${snippet(body)}` };
}

function restAnswer(
  body: string,
  status: number,
): { rawMessage: string; parameters?: MagentoParameters; errors?: { message: string }[] } {
  try {
    const json = JSON.parse(body) as { message?: unknown; parameters?: unknown; errors?: unknown };
    if (typeof json.message === 'string') {
      return {
        rawMessage: json.message,
        parameters: asParameters(json.parameters),
        errors: Array.isArray(json.errors) ? (json.errors as { message: string }[]) : undefined,
      };
    }
  } catch {
    // not JSON: a proxy's or web server's error page
  }
  return { rawMessage: `The store answered HTTP ${status} with no Magento error message: ${snippet(body)}` };
}

function asParameters(value: unknown): MagentoParameters | undefined {
  if (Array.isArray(value)) return value.map(String);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  }
  return undefined;
}

function snippet(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text ? JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text) : '(empty body)';
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
