import { createHmac, randomBytes } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { laminasPath, rfc3986, signedQueryParams } from './encoding.js';
import { strnatcmp } from './strnatcmp.js';

export type SignatureMethod = 'HMAC-SHA256' | 'HMAC-SHA1';

export interface OAuthCredentials {
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
}

/**
 * How the store builds its signature base string. `sort: 'natural'` is PHP strnatcmp over the
 * encoded names (Laminas: 2.4.3 to about 2.4.7); `path: 'laminas'` signs the path after
 * laminas-uri normalisation (2.4.4–2.4.6). RFC_PROFILE is RFC 5849, which newer releases follow.
 */
export interface SigningProfile {
  sort: 'byte' | 'natural';
  path: 'as-sent' | 'laminas';
}

export const RFC_PROFILE: SigningProfile = Object.freeze({ sort: 'byte', path: 'as-sent' });

export interface SignableRequest {
  method: string;
  /** The final URL, query included, exactly as it will go on the wire. */
  url: string;
  /** Form-encoded body fields, which are signed; JSON bodies never are. */
  form?: Record<string, string>;
}

export interface SignOptions {
  signatureMethod?: SignatureMethod;
  profile?: SigningProfile;
  /** More protocol parameters for the header and the signature, e.g. `oauth_verifier`. */
  extraOauth?: Record<string, string>;
  nonce?: string;
  timestamp?: number;
}

/** The protocol parameters every signed call carries, for working out whether sort order matters. */
const PROTOCOL_NAMES = [
  'oauth_consumer_key',
  'oauth_nonce',
  'oauth_signature_method',
  'oauth_timestamp',
  'oauth_token',
  'oauth_verifier',
  'oauth_version',
];

/** oauth-1.0a with Magento's parameter order, a crypto nonce and optional fixed nonce/timestamp. */
class MagentoOAuth extends OAuth {
  constructor(
    options: OAuth.Options,
    private readonly order: SigningProfile['sort'],
    private readonly fixed: { nonce?: string; timestamp?: number },
  ) {
    super(options);
  }

  override getNonce(): string {
    return this.fixed.nonce ?? createNonce();
  }

  override getTimeStamp(): number {
    return this.fixed.timestamp ?? Math.floor(Date.now() / 1000);
  }

  // The library sorts percent-encoded names with Array#sort, i.e. RFC byte order.
  override sortObject<O extends { [k: string]: unknown }, K extends string>(
    data: O,
  ): Array<{ key: keyof O; value: O[K] }> {
    if (this.order === 'byte') return super.sortObject(data);
    return Object.keys(data)
      .sort(naturalOrder)
      .map((key) => ({ key, value: data[key] as O[K] }));
  }
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 characters of [A-Za-z0-9]: Magento's oauth_nonce column is varchar(32). */
export function createNonce(): string {
  let nonce = '';
  while (nonce.length < 32) {
    for (const byte of randomBytes(48)) {
      // 248 = 4 × 62: dropping the rest keeps every character equally likely.
      if (byte < 248 && nonce.length < 32) nonce += NONCE_ALPHABET[byte % 62];
    }
  }
  return nonce;
}

/**
 * The `Authorization: OAuth …` header for one request (RFC 5849, HMAC via node:crypto). The base
 * URL is origin + path (lower-case scheme and host, default port dropped), and the parameters are
 * the decoded query pairs Magento signs plus the form fields. Query items without `=` (or with a
 * raw `=` in the value) are not signed, because Magento ignores them: do not send such items;
 * encodeQuery never writes them. Every call gets a fresh nonce, so call it again for every
 * attempt, retry and redirect.
 */
export function authorizationHeader(
  request: SignableRequest,
  credentials: OAuthCredentials,
  options: SignOptions = {},
): string {
  const method = options.signatureMethod ?? 'HMAC-SHA256';
  const profile = options.profile ?? RFC_PROFILE;
  const url = new URL(request.url);
  const data: Record<string, string> = {};
  for (const [name, value] of signedParams(url, request.form)) {
    // oauth-1.0a copies data into a plain object, where `__proto__` would silently vanish.
    if (name === '__proto__') throw new TypeError('A parameter named __proto__ cannot be signed.');
    data[name] = value;
  }
  for (const [name, value] of Object.entries(options.extraOauth ?? {})) data[name] = value;

  const algorithm = method === 'HMAC-SHA1' ? 'sha1' : 'sha256';
  const oauth = new MagentoOAuth(
    {
      consumer: { key: credentials.consumerKey, secret: credentials.consumerSecret },
      signature_method: method,
      hash_function: (base, key) => createHmac(algorithm, key).update(base).digest('base64'),
    },
    profile.sort,
    { nonce: options.nonce, timestamp: options.timestamp },
  );
  const token =
    credentials.token === undefined
      ? undefined
      : { key: credentials.token, secret: credentials.tokenSecret ?? '' };
  const signed = oauth.authorize({ url: baseUrl(url, profile), method: request.method, data }, token);
  // toHeader() keeps only the oauth_* entries, so the query and form fields stay out of it.
  return oauth.toHeader({ ...signed, ...options.extraOauth }).Authorization;
}

/**
 * The profiles, besides RFC_PROFILE, that give a different base string for this URL (and form
 * fields): natural order only when it reorders the parameter names (an index reaching 10 next to
 * a shorter one), the laminas path only when normalisation changes the path (`%2F`, `%40`, …).
 * Equivalent profiles are listed once, the combinations real releases use first.
 */
export function alternativeProfiles(url: string, form?: Record<string, string>): SigningProfile[] {
  const key = effectiveKey(new URL(url), form);
  const seen = new Set([key(RFC_PROFILE)]);
  const candidates: SigningProfile[] = [
    { sort: 'natural', path: 'as-sent' },
    { sort: 'natural', path: 'laminas' },
    { sort: 'byte', path: 'laminas' },
  ];
  return candidates.filter((p) => {
    const k = key(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Whether two profiles give the same base string for this URL. */
export function sameBaseString(
  url: string,
  a: SigningProfile,
  b: SigningProfile,
  form?: Record<string, string>,
): boolean {
  const key = effectiveKey(new URL(url), form);
  return key(a) === key(b);
}

/** Maps a profile to the part of it that matters for this request. */
function effectiveKey(url: URL, form: Record<string, string> | undefined): (p: SigningProfile) => string {
  const names = [...PROTOCOL_NAMES, ...signedParams(url, form).keys()].map(rfc3986);
  const byte = [...names].sort();
  const natural = [...names].sort(naturalOrder);
  const sortMatters = byte.some((name, i) => name !== natural[i]);
  const pathMatters = laminasPath(url.pathname) !== url.pathname;
  return (p) => `${sortMatters ? p.sort : 'byte'}|${pathMatters ? p.path : 'as-sent'}`;
}

function signedParams(url: URL, form: Record<string, string> | undefined): Map<string, string> {
  const params = signedQueryParams(url.search.slice(1));
  // Magento reads oauth_* body fields only when the header has none, and we always send a header.
  for (const [name, value] of Object.entries(form ?? {}))
    if (!name.startsWith('oauth_')) params.set(name, value);
  return params;
}

function baseUrl(url: URL, profile: SigningProfile): string {
  const path = profile.path === 'laminas' ? laminasPath(url.pathname) : url.pathname;
  // URL#origin is already lower-case and drops :80/:443.
  return `${url.origin}${path || '/'}`;
}

function naturalOrder(a: string, b: string): number {
  return strnatcmp(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
