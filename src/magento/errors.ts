/**
 * Typed failures of talking to a store. Each has a stable `code`; messages carry the store's own
 * text first, then the likely cause and fix where one is known.
 */

import { AppError } from '../errors.js';

export type MagentoParameters = string[] | Record<string, string>;

export class MagentoError extends AppError {
  override name = 'MagentoError';
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

interface StoreAnswer {
  status: number;
  /** The request URL, with secret-looking query values masked. */
  url: string;
  /** The store's text as sent: an `oauth_problem`, or a REST message template. */
  rawMessage: string;
  parameters?: MagentoParameters;
  /** Set for token-endpoint answers: the decoded `oauth_problem`. */
  problem?: string;
}

/** What the store answered, kept whole so callers can tell causes apart. */
abstract class MagentoAnswerError extends MagentoError {
  readonly status: number;
  readonly url: string;
  readonly rawMessage: string;
  readonly problem?: string;
  readonly parameters?: MagentoParameters;
  /** The store's message with its placeholders filled in, without our hint. */
  readonly storeMessage: string;
  readonly hint?: string;

  constructor(answer: StoreAnswer, code: string, options?: { cause?: unknown }) {
    const storeMessage = fillPlaceholders(answer.rawMessage, answer.parameters);
    const hint = hintFor(answer.rawMessage, answer.parameters);
    super(withHint(storeMessage, hint), code, options);
    this.status = answer.status;
    this.url = answer.url;
    this.rawMessage = answer.rawMessage;
    this.problem = answer.problem;
    this.parameters = answer.parameters;
    this.storeMessage = storeMessage;
    this.hint = hint;
  }
}

/** The store refused the credentials or signature (HTTP 401); the integration may need reauthorizing. */
export class MagentoAuthError extends MagentoAnswerError {
  override name = 'MagentoAuthError';
  declare readonly code: 'MAGENTO_AUTH';

  constructor(answer: StoreAnswer, options?: { cause?: unknown }) {
    super(answer, 'MAGENTO_AUTH', options);
  }

  /** Magento's answer to a bad signature; the client may retry with another signing profile. */
  get isSignatureInvalid(): boolean {
    return this.rawMessage === SIGNATURE_INVALID;
  }
}

/** Any other error status (4xx/5xx), or an answer the connector cannot use. */
export class MagentoApiError extends MagentoAnswerError {
  override name = 'MagentoApiError';
  declare readonly code: 'MAGENTO_API';
  /** Magento's `errors` list for input errors: each `{message, parameters}` as sent. */
  readonly errors?: { message: string; parameters?: MagentoParameters }[];

  constructor(
    answer: StoreAnswer & { errors?: { message: string; parameters?: MagentoParameters }[] },
    options?: { cause?: unknown },
  ) {
    super(answer, 'MAGENTO_API', options);
    this.errors = answer.errors;
  }
}

/** The store could not be reached: connection refused or reset, DNS failure, timeout. */
export class MagentoNetworkError extends MagentoError {
  override name = 'MagentoNetworkError';
  /** The socket's or got's code (ECONNREFUSED, ETIMEDOUT, ...), kept as callers know it. */
  declare readonly code: string;
  constructor(
    message: string,
    code: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}

/** The request-token window (300 s after the store's callback POST) has passed. */
export class MagentoExpiredError extends MagentoError {
  override name = 'MagentoExpiredError';
  declare readonly code: 'MAGENTO_EXPIRED';
  constructor(
    message: string,
    readonly deadline: Date,
    options?: { cause?: unknown },
  ) {
    super(message, 'MAGENTO_EXPIRED', options);
  }
}

const SIGNATURE_INVALID = 'The signature is invalid. Verify and try again.';

/** Magento's phrase placeholders: `%1`, `%2` from a list; `%name` from an object (contract §6.1). */
export function fillPlaceholders(template: string, parameters?: MagentoParameters): string {
  if (!parameters) return template;
  if (Array.isArray(parameters)) {
    return template.replace(/%(\d+)/g, (m, n: string) => parameters[Number(n) - 1] ?? m);
  }
  return template.replace(/%([A-Za-z_]\w*)/g, (m, name: string) =>
    Object.hasOwn(parameters, name) ? String(parameters[name]) : m,
  );
}

function withHint(message: string, hint: string | undefined): string {
  if (!hint) return message;
  return /[.!?]$/.test(message) ? `${message} ${hint}` : `${message}. ${hint}`;
}

/** Likely causes and fixes for the store messages an integrator meets most (contract §11.9). */
const HINTS: Record<string, (parameters?: MagentoParameters) => string> = {
  [SIGNATURE_INVALID]: () =>
    'Check that the store base URL (scheme, host and port) is the one Magento sees: behind a proxy or ' +
    'with an http/https mismatch the signed URL differs. Also check the consumer and token secrets.',
  'Consumer key has expired': () =>
    'The request token must be asked for within 300 s of the store POSTing the credentials to the ' +
    'callback; ask the store admin to click Reauthorize to start again.',
  "The consumer isn't authorized to access %resources.": (p) =>
    `The integration lacks the ACL resource (${resourceList(p)}), or it is not Active ` +
    '(activation unfinished, reauthorized, reset or deleted), or Bearer use of integration tokens ' +
    'is off in the store. Grant the resource in the integration and activate it again.',
  'The nonce is already being used by the consumer with ID %1': () =>
    'Every request needs a fresh nonce; a retry must be signed again.',
  'Incorrect timestamp value in the oauth_timestamp parameter': () =>
    "Our clock is more than 600 s ahead of the store's; sync the system clock.",
  'Signature method %1 is not supported': () => 'Magento 2.4.4 and later accept HMAC-SHA256 only.',
  'Token verifier and verifier token do not match': () =>
    'Use the oauth_verifier from the latest callback POST; each Reauthorize sends a new one.',
  'Cannot create request token because consumer token is not a verifier token': () =>
    'A request token was already issued for this activation (the exchange runs once per verifier, ' +
    'and a lost answer counts). Ask the store admin to click Reauthorize.',
  'Specified token does not exist': () =>
    'The token was already exchanged, or deleted by a Reauthorize or by deleting the integration.',
  'A consumer having the specified key does not exist': () =>
    'The integration was deleted or reset in the store (a reset issues new consumer credentials); ' +
    'activate it again.',
  'Access token has been revoked': () => 'Ask the store admin to Reauthorize the integration.',
};

// Token endpoints send the rendered text, REST the template: a template matches both.
const HINT_PATTERNS = Object.entries(HINTS).map(([template, hint]) => {
  const source = template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%\w+/g, '.*?');
  return { pattern: new RegExp(`^${source}$`), hint };
});

export function hintFor(message: string, parameters?: MagentoParameters): string | undefined {
  return HINT_PATTERNS.find(({ pattern }) => pattern.test(message))?.hint(parameters);
}

function resourceList(parameters?: MagentoParameters): string {
  if (parameters && !Array.isArray(parameters) && parameters.resources) return parameters.resources;
  return 'see the route';
}

/** The URL for error messages and logs: query values with secret-looking names masked. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    const query = parsed.search
      .slice(1)
      .split('&')
      .filter(Boolean)
      .map((item) => {
        const name = item.split('=')[0] ?? '';
        return /oauth_|secret|token|password|signature|verifier/i.test(decodeSafe(name))
          ? `${name}=redacted`
          : item;
      });
    return `${parsed.origin}${parsed.pathname}${query.length ? `?${query.join('&')}` : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

function decodeSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
