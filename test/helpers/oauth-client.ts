import { randomBytes } from 'node:crypto';
import { hmacsign, hmacsign256, rfc3986 } from 'oauth-sign';
import { rawRequest, type RawResponse } from './http.js';

/**
 * An OAuth 1.0a client built on the `oauth-sign` package: independent of both the simulator's
 * verifier and the connector's signing code, so a shared mistake cannot pass unnoticed.
 */
export interface Credentials {
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
}

export interface SignedRequest {
  method: string;
  /** Path only, e.g. /rest/V1/products. */
  path: string;
  /** Decoded query pairs, in wire order. */
  query?: [string, string][];
  /** Sent instead of the encoded `query`, verbatim: to sign one thing and send another. */
  rawQuery?: string;
  /** Form body pairs (signed) or a JSON body (never signed). */
  form?: [string, string][];
  json?: unknown;
  extraOauth?: Record<string, string>;
  signatureMethod?: 'HMAC-SHA256' | 'HMAC-SHA1';
  nonce?: string;
  timestamp?: number;
  /** Overrides for negative tests: a wrong secret, a tampered signature. */
  signWithConsumerSecret?: string;
  tamper?: (signature: string) => string;
}

export function nonce(): string {
  return randomBytes(16).toString('hex');
}

/** Builds the wire query with RFC 3986 encoding of names and values (brackets encoded too). */
export function encodeQuery(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
}

export function authorizationHeader(base: string, creds: Credentials, req: SignedRequest): string {
  const oauth: Record<string, string> = {
    oauth_consumer_key: creds.consumerKey,
    oauth_nonce: req.nonce ?? nonce(),
    oauth_signature_method: req.signatureMethod ?? 'HMAC-SHA256',
    oauth_timestamp: String(req.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_version: '1.0',
    ...(creds.token ? { oauth_token: creds.token } : {}),
    ...req.extraOauth,
  };
  const params: Record<string, string | string[]> = { ...oauth };
  for (const [k, v] of [...(req.query ?? []), ...(req.form ?? [])]) {
    const existing = params[k];
    params[k] = existing === undefined ? v : ([] as string[]).concat(existing, v);
  }
  const sign = oauth.oauth_signature_method === 'HMAC-SHA1' ? hmacsign : hmacsign256;
  let signature = sign(
    req.method,
    base + req.path,
    params,
    req.signWithConsumerSecret ?? creds.consumerSecret,
    creds.tokenSecret ?? '',
  );
  if (req.tamper) signature = req.tamper(signature);
  const fields = { ...oauth, oauth_signature: signature };
  return (
    'OAuth ' +
    Object.entries(fields)
      .map(([k, v]) => `${rfc3986(k)}="${rfc3986(v)}"`)
      .join(', ')
  );
}

export function signedRequest(base: string, creds: Credentials, req: SignedRequest): Promise<RawResponse> {
  const qs =
    req.rawQuery !== undefined ? `?${req.rawQuery}` : req.query?.length ? `?${encodeQuery(req.query)}` : '';
  const headers: Record<string, string> = { authorization: authorizationHeader(base, creds, req) };
  let body: string | undefined;
  if (req.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = encodeQuery(req.form);
  } else if (req.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.json);
  }
  return rawRequest(base, { method: req.method, path: req.path + qs, headers, body });
}

export function parseForm(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}
