import got, { type Got, type Method } from 'got';
import {
  RFC_PROFILE,
  alternativeProfiles,
  authorizationHeader,
  encodeQuery,
  sameBaseString,
  type OAuthCredentials,
  type SignatureMethod,
  type SigningProfile,
} from '../oauth1/index.js';
import { MagentoApiError, MagentoAuthError, redactUrl } from './errors.js';
import { connectGuard, defaultOutboundPolicy, type OutboundPolicy } from './outbound-guard.js';
import type { SearchCriteria } from './search-criteria.js';
import { assertSameOrigin, retryOptions, toMagentoError } from './store-http.js';

/** Where Bearer tokens come from (an ImsTokenProvider for Adobe Commerce as a Cloud Service). */
export interface BearerTokenSource {
  token(): Promise<string>;
  /** The store refused this token: the next call should get another. */
  invalidate?(token: string): void;
}

export interface MagentoClientOptions {
  /** `store_base_url` as the store sent it (trailing slash, may end in `index.php/`). */
  storeBaseUrl: string;
  /** OAuth 1.0a integration: every request signed with these. Give this or `bearer`. */
  credentials?: Required<OAuthCredentials>;
  /** IMS (Cloud Service): `Authorization: Bearer` from this source instead of a signature. */
  bearer?: BearerTokenSource;
  /**
   * The REST API's path under the base URL: `rest/` (default: Magento Open Source, Adobe Commerce
   * on-premises and PaaS), '' for a Cloud Service instance, whose base (`https://host/<tenant-id>/`)
   * is the REST base itself.
   */
  restPath?: string;
  signatureMethod?: SignatureMethod;
  /**
   * A fixed profile, or `auto` (default): sign as RFC 5849 (or `learnedSigning`), and when the
   * store says "The signature is invalid" for a URL where another profile signs differently,
   * try those once each and keep the one that works.
   */
  signing?: SigningProfile | 'auto';
  /** In auto mode, the profile learned earlier (from onSigningLearned), tried first. */
  learnedSigning?: SigningProfile;
  onSigningLearned?: (profile: SigningProfile) => void;
  /** Every 401 from the store: the caller usually marks the integration "needs reauthorization". */
  onAuthFailure?: (error: MagentoAuthError) => void;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  retry?: { limit?: number; baseDelayMs?: number };
  /** Which addresses the store may be reached at; default: the process default (see outbound-guard). */
  outbound?: OutboundPolicy;
}

export interface GetOptions {
  searchParams?: Record<string, string> | [string, string][];
  searchCriteria?: SearchCriteria;
}

interface CallContext extends Record<string, unknown> {
  profile: SigningProfile;
  /** Bearer mode: the token this call (and its retries) carries. */
  bearer?: string;
}

/**
 * Signed REST calls to one store: `{base}rest/` + path, e.g. `V1/products` or
 * `default/V1/products/{sku}`. Encode path segments yourself with `rfc3986` from oauth1 (it also
 * escapes `!'()*`, which laminas-uri would escape before signing), and pass queries as
 * searchParams/searchCriteria: the URL is built here with RFC 3986 encoding (got's searchParams
 * would write spaces as `+`, which 2.4.6 and others decode differently).
 */
export class MagentoClient {
  private readonly restBase: string;
  private readonly http: Got;
  private readonly timeoutMs: number;
  private profile: SigningProfile;

  constructor(private readonly options: MagentoClientOptions) {
    const base = new URL(options.storeBaseUrl);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    base.search = '';
    base.hash = '';
    if (!options.credentials === !options.bearer) {
      throw new TypeError('Give a MagentoClient either OAuth credentials or a Bearer token source.');
    }
    this.restBase = `${base.href}${options.restPath ?? 'rest/'}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.profile =
      options.signing && options.signing !== 'auto'
        ? options.signing
        : (options.learnedSigning ?? RFC_PROFILE);
    const { credentials, signatureMethod } = options;
    // Checked at every connection, not once: the store's name may resolve elsewhere later.
    const guard = connectGuard(base, options.outbound ?? defaultOutboundPolicy());
    this.http = got.extend({
      responseType: 'text',
      dnsLookup: guard.lookup,
      timeout: { request: this.timeoutMs },
      headers: { accept: 'application/json' },
      retry: retryOptions({
        limit: options.retry?.limit ?? 3,
        baseDelayMs: options.retry?.baseDelayMs ?? 500,
        repeatPost: false,
      }),
      hooks: {
        // Runs before every attempt, retry and redirect: each is signed for its own URL with a
        // fresh nonce, since Magento stores every nonce it sees.
        beforeRequest: [
          (request) => {
            const url = new URL(String(request.url));
            assertSameOrigin(url, base.origin);
            guard.checkUrl(url);
            const { profile, bearer } = request.context as CallContext;
            request.headers.authorization = credentials
              ? authorizationHeader({ method: request.method, url: url.href }, credentials, {
                  signatureMethod,
                  profile,
                })
              : `Bearer ${bearer ?? ''}`;
          },
        ],
      },
    });
  }

  /** The profile requests are signed with now. */
  get signing(): SigningProfile {
    return this.profile;
  }

  get<T>(path: string, options: GetOptions = {}): Promise<T> {
    const pairs = [...(options.searchCriteria?.toPairs() ?? []), ...toPairs(options.searchParams)];
    return this.send<T>('GET', this.url(path, pairs));
  }

  post<T>(path: string, json: unknown): Promise<T> {
    return this.send<T>('POST', this.url(path), json);
  }

  put<T>(path: string, json: unknown): Promise<T> {
    return this.send<T>('PUT', this.url(path), json);
  }

  delete<T>(path: string): Promise<T> {
    return this.send<T>('DELETE', this.url(path));
  }

  /** The full URL a call goes to. */
  url(path: string, pairs: [string, string][] = []): string {
    if (/[?#]/.test(path)) throw new TypeError('Pass query parameters as searchParams, not in the path.');
    const query = pairs.length ? `?${encodeQuery(pairs)}` : '';
    return new URL(`${this.restBase}${path.replace(/^\/+/, '')}${query}`).href;
  }

  private async send<T>(method: Method, url: string, json?: unknown): Promise<T> {
    const first = this.profile;
    try {
      return await this.call<T>(method, url, json, first);
    } catch (error) {
      let failure = error;
      if (this.isAuto && error instanceof MagentoAuthError && error.isSignatureInvalid) {
        const next = await this.tryOtherProfiles<T>(method, url, json, first);
        if (next.ok) return next.value;
        failure = next.error ?? error;
      }
      if (failure instanceof MagentoAuthError) this.options.onAuthFailure?.(failure);
      throw failure;
    }
  }

  /** Each profile that signs this URL differently, once; the first that passes is kept. */
  private async tryOtherProfiles<T>(
    method: Method,
    url: string,
    json: unknown,
    failed: SigningProfile,
  ): Promise<{ ok: true; value: T } | { ok: false; error?: unknown }> {
    const candidates = [RFC_PROFILE, ...alternativeProfiles(url)].filter(
      (p) => !sameBaseString(url, p, failed),
    );
    for (const profile of candidates) {
      try {
        const value = await this.call<T>(method, url, json, profile);
        this.profile = profile;
        this.options.onSigningLearned?.(profile);
        return { ok: true, value };
      } catch (error) {
        // Anything but another bad signature is the real answer (or a real outage): stop there.
        if (!(error instanceof MagentoAuthError && error.isSignatureInvalid)) return { ok: false, error };
      }
    }
    return { ok: false };
  }

  private async call<T>(method: Method, url: string, json: unknown, profile: SigningProfile): Promise<T> {
    const { bearer } = this.options;
    const context: CallContext = { profile, ...(bearer ? { bearer: await bearer.token() } : {}) };
    let body: string;
    try {
      const response = await this.http(url, { method, json, context });
      body = response.body;
    } catch (error) {
      const failure = toMagentoError(error, 'rest', this.timeoutMs);
      if (failure instanceof MagentoAuthError && context.bearer) bearer?.invalidate?.(context.bearer);
      throw failure;
    }
    if (body === '') return undefined as T;
    try {
      return JSON.parse(body) as T;
    } catch (error) {
      throw new MagentoApiError(
        {
          status: 200,
          url: redactUrl(url),
          rawMessage: `The store answered with a body that is not JSON: ${JSON.stringify(body.slice(0, 200))}`,
        },
        { cause: error },
      );
    }
  }

  private get isAuto(): boolean {
    if (this.options.bearer) return false;
    return this.options.signing === undefined || this.options.signing === 'auto';
  }
}

function toPairs(params: GetOptions['searchParams']): [string, string][] {
  if (!params) return [];
  return Array.isArray(params) ? params : Object.entries(params);
}
