import got from 'got';
import type { BearerTokenSource } from '../magento/client.js';
import {
  authorizationHeader,
  encodeQuery,
  rfc3986,
  type OAuthCredentials,
  type SignatureMethod,
  type SigningProfile,
} from '../oauth1/index.js';

export interface ProbeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
  ms: number;
  url: string;
}

export interface SignedOptions {
  query?: [string, string][];
  json?: unknown;
  signatureMethod?: SignatureMethod;
  profile?: SigningProfile;
  nonce?: string;
  timestamp?: number;
  /** Changes the signature after signing (to see that the store refuses it). */
  tamper?: boolean;
  /** Replaces the OAuth header, e.g. with a Bearer token or nothing. */
  authorization?: string | null;
}

/**
 * A base64 signature with every bit of its first byte flipped: always a different signature of the
 * same length (replacing a character could write the one already there).
 */
export function tamperSignature(signature: string): string {
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length === 0) return 'AAAA';
  bytes[0] = (bytes[0] as number) ^ 0xff;
  return bytes.toString('base64');
}

/**
 * Raw, single-attempt calls for the contract checks: no retries and no redirects followed, so
 * every answer the store gives is seen as it is.
 */
export class StoreProbe {
  /** Cloud Service mode: calls carry an IMS Bearer token, and the REST base is the base URL itself. */
  private bearer?: BearerTokenSource;

  constructor(
    readonly baseUrl: string,
    readonly credentials: Required<OAuthCredentials>,
    private readonly timeoutMs = 15_000,
  ) {}

  /** Answers received, of any status: none yet and a network error means the store is unreachable. */
  answers = 0;

  /**
   * A probe of an Adobe Commerce as a Cloud Service instance (`baseUrl` = `https://host/<tenant-id>/`).
   * Its OAuth `credentials` are empty: the checks that read them do not apply there (contract/saas.ts).
   */
  static forIms(baseUrl: string, bearer: BearerTokenSource, timeoutMs?: number): StoreProbe {
    const probe = new StoreProbe(
      baseUrl,
      { consumerKey: '', consumerSecret: '', token: '', tokenSecret: '' },
      timeoutMs,
    );
    probe.bearer = bearer;
    return probe;
  }

  get mode(): 'oauth1' | 'ims' {
    return this.bearer ? 'ims' : 'oauth1';
  }

  /** The IMS token source of a Cloud Service probe. */
  get tokens(): BearerTokenSource | undefined {
    return this.bearer;
  }

  restUrl(path: string, query: [string, string][] = []): string {
    const rest = this.bearer ? '' : 'rest/';
    return `${this.baseUrl}${rest}${path.replace(/^\/+/, '')}${query.length ? `?${encodeQuery(query)}` : ''}`;
  }

  /** Signed with OAuth 1.0a, or (Cloud Service) with the IMS Bearer token. */
  async signed(method: string, path: string, options: SignedOptions = {}): Promise<ProbeAnswer> {
    const url = this.restUrl(path, options.query);
    if (this.bearer) {
      const authorization =
        options.authorization === undefined ? `Bearer ${await this.bearer.token()}` : options.authorization;
      return this.send(method, url, authorization ?? undefined, options.json);
    }
    let authorization =
      options.authorization === undefined
        ? authorizationHeader({ method, url }, this.credentials, {
            signatureMethod: options.signatureMethod,
            profile: options.profile,
            nonce: options.nonce,
            timestamp: options.timestamp,
          })
        : options.authorization;
    if (authorization && options.tamper) {
      authorization = authorization.replace(
        /oauth_signature="([^"]+)"/,
        (_m, sig: string) => `oauth_signature="${rfc3986(tamperSignature(decodeURIComponent(sig)))}"`,
      );
    }
    return this.send(method, url, authorization ?? undefined, options.json);
  }

  async unsigned(method: string, url: string): Promise<ProbeAnswer> {
    return this.send(method, url, undefined, undefined);
  }

  private async send(
    method: string,
    url: string,
    authorization: string | undefined,
    json: unknown,
  ): Promise<ProbeAnswer> {
    const started = performance.now();
    const res = await got(url, {
      method: method as 'GET',
      headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
      ...(json !== undefined ? { json } : {}),
      throwHttpErrors: false,
      followRedirect: false,
      retry: { limit: 0 },
      timeout: { request: this.timeoutMs },
    });
    this.answers++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      parsed = undefined;
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      text: res.body,
      json: parsed,
      ms: Math.round(performance.now() - started),
      url,
    };
  }
}

/** The store's words in an answer: a REST `message` (placeholders filled) or an `oauth_problem`. */
export function storeSaid(answer: ProbeAnswer): string | undefined {
  const body = answer.json as { message?: unknown; parameters?: unknown } | undefined;
  if (body && typeof body.message === 'string') {
    const params = body.parameters;
    return body.message.replace(/%(\w+)/g, (m, key: string) => {
      if (Array.isArray(params)) return String(params[Number(key) - 1] ?? m);
      if (params && typeof params === 'object') return String((params as Record<string, unknown>)[key] ?? m);
      return m;
    });
  }
  const problem = /oauth_problem=([^&]*)/.exec(answer.text)?.[1];
  return problem ? decodeURIComponent(problem.replace(/\+/g, ' ')) : undefined;
}
