import { timingSafeEqual } from 'node:crypto';
import { magentoToken } from '../ids.js';
import type { Consumer, SimulatorState, TokenRow } from '../state.js';
import { hmacSignature, normaliseBaseUrl, signatureBaseString, signatureMatches } from './base-string.js';
import { MESSAGES, OauthProblem, inputError, oauthError } from './problems.js';
import type { SignatureProfile } from './profile.js';
import type { OauthRequestView } from './request-params.js';

/** One incoming request, as much of it as the store's OAuth code reads. */
export interface IncomingOauthRequest {
  method: string;
  scheme: string;
  host: string;
  /** Path without the query, exactly as sent. */
  rawPath: string;
  view: OauthRequestView;
}

export interface ProviderOptions {
  profile: SignatureProfile;
  /** Seconds after the callback POST during which a request token may be asked for (default 300). */
  consumerExpirySeconds: number;
  /** A broken store, for contract tests: checks that can be switched off. */
  misbehave: { skipSignature: boolean; skipNonce: boolean; skipTimestamp: boolean };
}

const TIME_DEVIATION = 600;
const LENGTH = 32;
const BASE_REQUIRED = [
  'oauth_consumer_key',
  'oauth_signature',
  'oauth_signature_method',
  'oauth_nonce',
  'oauth_timestamp',
];

/**
 * The provider side of Magento's Oauth class: getRequestToken, getAccessToken and
 * validateAccessTokenRequest, each check in Magento's order (contract §3.4, §3.5, §5.1).
 */
export class OauthProvider {
  constructor(
    private readonly state: SimulatorState,
    private readonly options: ProviderOptions,
  ) {}

  getRequestToken(req: IncomingOauthRequest): { oauth_token: string; oauth_token_secret: string } {
    const params = this.protocolParams(req, BASE_REQUIRED);
    const consumer = this.consumerByKey(params.oauth_consumer_key as string);
    this.validateNonce(params, consumer);
    this.validateConsumerExpiry(consumer);
    this.validateSignature(req, params, consumer.secret, '');
    const token = this.state.tokenByConsumer(consumer.id);
    if (!token) throw oauthError(MESSAGES.noToken, String(consumer.id));
    if (token.type !== 'verifier') throw oauthError(MESSAGES.notVerifier);
    // Token::createRequestToken rewrites the same row; the verifier value stays.
    rotate(token, 'request');
    return { oauth_token: token.token, oauth_token_secret: token.secret };
  }

  getAccessToken(req: IncomingOauthRequest): {
    oauth_token: string;
    oauth_token_secret: string;
    consumer: Consumer;
  } {
    const params = this.protocolParams(req, [...BASE_REQUIRED, 'oauth_token', 'oauth_verifier']);
    const consumer = this.consumerByKey(params.oauth_consumer_key as string);
    this.validateNonce(params, consumer);
    const token = this.tokenRow(params.oauth_token as string);
    if (token.consumerId !== consumer.id) throw oauthError(MESSAGES.requestTokenConsumer);
    if (token.type !== 'request') throw oauthError(MESSAGES.tokenUsed);
    validateVerifier(params.oauth_verifier, token.verifier);
    this.validateSignature(req, params, consumer.secret, token.secret);
    rotate(token, 'access');
    return { oauth_token: token.token, oauth_token_secret: token.secret, consumer };
  }

  /** Signed REST call; returns the consumer whose access token signed it. */
  validateAccessTokenRequest(req: IncomingOauthRequest): { consumer: Consumer; token: TokenRow } {
    const params = this.protocolParams(req, [...BASE_REQUIRED, 'oauth_token']);
    const consumer = this.consumerByKey(params.oauth_consumer_key as string);
    this.validateNonce(params, consumer);
    const token = this.tokenRow(params.oauth_token as string);
    if (token.consumerId !== consumer.id) throw oauthError(MESSAGES.tokenConsumer);
    if (token.type !== 'access') throw oauthError(MESSAGES.notAccess);
    if (token.revoked) throw oauthError(MESSAGES.revoked);
    this.validateSignature(req, params, consumer.secret, token.secret);
    return { consumer, token };
  }

  private protocolParams(req: IncomingOauthRequest, required: string[]): Record<string, string> {
    // Without an `OAuth ` header Magento sees no parameters at all (contract §3.3).
    const params = req.view.protocol ?? {};
    if (
      params.oauth_version !== undefined &&
      params.oauth_version !== '1.0' &&
      Number(params.oauth_version) !== 1
    ) {
      throw inputError(MESSAGES.version, params.oauth_version);
    }
    const missing = required.filter((name) => params[name] === undefined);
    if (missing.length === 1) throw inputError(MESSAGES.required, missing[0] as string);
    if (missing.length > 1) {
      // OauthInputException::getAggregatedErrorMessage: messages joined, trailing periods stripped.
      const joined = missing.map((m) => `"${m}" is required. Enter and try again`).join(', ');
      throw new OauthProblem(joined, 400);
    }
    if (params.oauth_token !== undefined && params.oauth_token.length !== LENGTH) {
      throw inputError(MESSAGES.tokenLength);
    }
    const method = params.oauth_signature_method as string;
    if (!this.options.profile.methods.includes(method)) throw inputError(MESSAGES.method, method);
    return params;
  }

  private consumerByKey(key: string): Consumer {
    if (key.length !== LENGTH) throw oauthError(MESSAGES.consumerLength);
    const consumer = this.state.consumerByKey(key);
    if (!consumer) throw oauthError(MESSAGES.consumerMissing);
    return consumer;
  }

  /** Nonce\Generator::validateNonce: the nonce is stored before the signature is checked. */
  private validateNonce(params: Record<string, string>, consumer: Consumer): void {
    const timestamp = phpInt(params.oauth_timestamp as string);
    const now = Math.floor(this.state.clock().getTime() / 1000);
    const { misbehave } = this.options;
    if (!misbehave.skipTimestamp && (timestamp <= 0 || timestamp > now + TIME_DEVIATION)) {
      throw inputError(MESSAGES.timestamp);
    }
    const nonce = params.oauth_nonce as string;
    const key = `${consumer.id}:${nonce}`;
    if (!misbehave.skipNonce && this.state.nonces.has(key))
      throw oauthError(MESSAGES.nonceUsed, String(consumer.id));
    this.state.nonces.set(key, {
      nonce,
      consumerId: consumer.id,
      timestamp,
      at: this.state.clock().toISOString(),
    });
  }

  private validateConsumerExpiry(consumer: Consumer): void {
    const age = (this.state.clock().getTime() - consumer.updatedAt.getTime()) / 1000;
    if (!(this.options.consumerExpirySeconds > age)) throw oauthError(MESSAGES.consumerExpired);
  }

  private validateSignature(
    req: IncomingOauthRequest,
    params: Record<string, string>,
    consumerSecret: string,
    tokenSecret: string,
  ): void {
    const expected = this.expectedSignature(req, params, consumerSecret, tokenSecret);
    if (this.options.misbehave.skipSignature) return;
    if (!signatureMatches(expected, params.oauth_signature as string)) throw oauthError(MESSAGES.signature);
  }

  /** Exposed so the inspection log can show the base string a rejected request was checked against. */
  baseString(req: IncomingOauthRequest, params: Record<string, string>): string {
    const { profile } = this.options;
    const url = normaliseBaseUrl(req.scheme, req.host, req.rawPath, profile.url);
    const all: Record<string, string> = { ...req.view.extra };
    for (const [name, value] of Object.entries(params)) if (name !== 'oauth_signature') all[name] = value;
    return signatureBaseString(req.method, url, all, profile);
  }

  private expectedSignature(
    req: IncomingOauthRequest,
    params: Record<string, string>,
    consumerSecret: string,
    tokenSecret: string,
  ): string {
    const method = params.oauth_signature_method as string;
    return hmacSignature(method, this.baseString(req, params), consumerSecret, tokenSecret);
  }

  private tokenRow(value: string): TokenRow {
    if (value.length !== LENGTH) throw oauthError(MESSAGES.tokenLength);
    const token = this.state.tokenByValue(value);
    if (!token) throw oauthError(MESSAGES.tokenMissing);
    return token;
  }
}

function validateVerifier(received: string | undefined, stored: string): void {
  if (typeof received !== 'string') throw oauthError(MESSAGES.verifierInvalid);
  if (received.length !== LENGTH) throw oauthError(MESSAGES.verifierLength);
  const a = Buffer.from(stored);
  const b = Buffer.from(received);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw oauthError(MESSAGES.verifierMismatch);
}

function rotate(token: TokenRow, type: 'request' | 'access'): void {
  token.type = type;
  token.token = magentoToken();
  token.secret = magentoToken();
}

/** PHP (int) cast: leading digits, anything else 0. */
function phpInt(value: string): number {
  const m = /^\s*[+-]?\d+/.exec(value);
  return m ? parseInt(m[0], 10) : 0;
}
