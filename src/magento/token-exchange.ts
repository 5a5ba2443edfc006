import got from 'got';
import { authorizationHeader, type OAuthCredentials, type SignatureMethod } from '../oauth1/index.js';
import { MagentoApiError, MagentoError, MagentoExpiredError, redactUrl } from './errors.js';
import { connectGuard, defaultOutboundPolicy, type OutboundPolicy } from './outbound-guard.js';
import { assertSameOrigin, retryOptions, toMagentoError } from './store-http.js';

export interface ExchangeStepEvent {
  step: 'request_token' | 'access_token';
  /** 1 for the first try of a step, then 2, 3… for retries. */
  attempt: number;
  ok: boolean;
  detail?: string;
}

export interface ExchangeTokensInput {
  /** `store_base_url` as the store POSTed it, e.g. `https://shop.example/` or `…/index.php/`. */
  storeBaseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  verifier: string;
  signatureMethod?: SignatureMethod;
  /** When Magento stops issuing the request token: callback received + 300 s. */
  deadline: Date;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  onStep?: (event: ExchangeStepEvent) => void;
  retry?: { limit?: number; baseDelayMs?: number };
  /** A request token obtained earlier (before a restart): the exchange resumes at the access step. */
  requestToken?: { token: string; secret: string };
  /**
   * Awaited before the access step, so the caller can store the request token: Magento issues one
   * only once per verifier, and a resumed exchange needs it.
   */
  onRequestToken?: (token: { token: string; secret: string }) => Promise<void>;
  /** Which addresses the store may be reached at; default: the process default (see outbound-guard). */
  outbound?: OutboundPolicy;
}

export interface AccessTokens {
  accessToken: string;
  accessTokenSecret: string;
}

// Magento never expires a request token, but an exchange should not retry for ever.
const ACCESS_STEP_BUDGET_MS = 120_000;

/**
 * The integrator's half of activation: request token (signed with the consumer key and secret),
 * then access token (signed with the request token, carrying oauth_verifier). Network errors, 5xx
 * and 429 are retried with backoff, each attempt signed afresh: Magento stores every nonce, even
 * of a rejected request.
 */
export async function exchangeTokens(input: ExchangeTokensInput): Promise<AccessTokens> {
  const base = storeBase(input.storeBaseUrl);
  const deadline = input.deadline.getTime();
  const consumer = { consumerKey: input.consumerKey, consumerSecret: input.consumerSecret };

  let request = input.requestToken;
  if (!request) {
    if (Date.now() > deadline) throw expired(input.deadline);
    request = await tokenCall(input, {
      step: 'request_token',
      url: new URL('oauth/token/request', base),
      credentials: consumer,
      deadline,
    });
    await input.onRequestToken?.(request);
  }
  const access = await tokenCall(input, {
    step: 'access_token',
    url: new URL('oauth/token/access', base),
    credentials: { ...consumer, token: request.token, tokenSecret: request.secret },
    extraOauth: { oauth_verifier: input.verifier },
    deadline: Date.now() + ACCESS_STEP_BUDGET_MS,
  });
  return { accessToken: access.token, accessTokenSecret: access.secret };
}

interface TokenCall {
  step: ExchangeStepEvent['step'];
  url: URL;
  credentials: OAuthCredentials;
  extraOauth?: Record<string, string>;
  deadline: number;
}

async function tokenCall(
  input: ExchangeTokensInput,
  call: TokenCall,
): Promise<{ token: string; secret: string }> {
  const timeoutMs = input.timeoutMs ?? 10_000;
  const guard = connectGuard(call.url, input.outbound ?? defaultOutboundPolicy());
  let attempt = 0;
  let reported = 0;
  let stoppedByDeadline = false;
  const report = (ok: boolean, detail: string) => {
    if (reported === attempt) return;
    reported = attempt;
    input.onStep?.({ step: call.step, attempt, ok, detail });
  };

  let body: string;
  try {
    const response = await got(call.url, {
      method: 'POST',
      responseType: 'text',
      timeout: { request: timeoutMs },
      dnsLookup: guard.lookup,
      retry: retryOptions({
        limit: input.retry?.limit ?? 4,
        baseDelayMs: input.retry?.baseDelayMs ?? 500,
        repeatPost: true,
        deadline: () => call.deadline,
        onDeadline: () => {
          stoppedByDeadline = true;
        },
      }),
      hooks: {
        // Runs before every attempt and redirect, so each one has its own nonce and timestamp.
        beforeRequest: [
          (options) => {
            attempt++;
            const url = new URL(String(options.url));
            assertSameOrigin(url, call.url.origin);
            guard.checkUrl(url);
            options.headers.authorization = authorizationHeader(
              { method: options.method, url: url.href },
              call.credentials,
              { signatureMethod: input.signatureMethod, extraOauth: call.extraOauth },
            );
          },
        ],
        afterResponse: [
          (response) => {
            const ok = response.statusCode >= 200 && response.statusCode < 300;
            report(ok, `HTTP ${response.statusCode}`);
            return response;
          },
        ],
        beforeRetry: [(error) => report(false, error.code)],
      },
    });
    body = response.body;
  } catch (error) {
    report(
      false,
      error instanceof Error ? ((error as { code?: string }).code ?? error.message) : String(error),
    );
    const mapped = toMagentoError(error, 'token', timeoutMs);
    if (stoppedByDeadline && call.step === 'request_token') throw expired(new Date(call.deadline), mapped);
    throw mapped;
  }
  return parseTokenAnswer(body, call.url);
}

/** `oauth_token=…&oauth_token_secret=…`, form-encoded (contract §3.2). */
function parseTokenAnswer(body: string, url: URL): { token: string; secret: string } {
  const fields = new URLSearchParams(body);
  const token = fields.get('oauth_token');
  const secret = fields.get('oauth_token_secret');
  if (token && secret) return { token, secret };
  const missing = [token ? null : 'oauth_token', secret ? null : 'oauth_token_secret'].filter(Boolean);
  const received = [...new Set(fields.keys())];
  throw new MagentoApiError({
    status: 200,
    url: redactUrl(url.href),
    rawMessage:
      `The store's answer to ${url.pathname} has no ${missing.join(' and ')} ` +
      `(fields received: ${received.length ? received.join(', ') : 'none'}). ` +
      'Check that the store base URL points at the Magento storefront, not at a proxy or login page.',
  });
}

function storeBase(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new MagentoError(`The store base URL ${JSON.stringify(raw)} is not a URL.`, 'MAGENTO_BAD_BASE_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MagentoError(`The store base URL must be http(s), not ${url.protocol}`, 'MAGENTO_BAD_BASE_URL');
  }
  // `index.php` without a slash would otherwise be replaced when the endpoint path is resolved.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

function expired(deadline: Date, cause?: unknown): MagentoExpiredError {
  return new MagentoExpiredError(
    `The request token was not obtained before ${deadline.toISOString()}, 300 s after the store sent the ` +
      'credentials; Magento refuses it after that ("Consumer key has expired"). Ask the store admin to ' +
      'click Reauthorize to send new credentials.',
    deadline,
    { cause },
  );
}
