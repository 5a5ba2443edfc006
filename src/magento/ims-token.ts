import { createHash } from 'node:crypto';
import got, { RequestError } from 'got';
import { MagentoError } from './errors.js';
import {
  connectGuard,
  defaultOutboundPolicy,
  matchesAllowlist,
  type OutboundPolicy,
} from './outbound-guard.js';

/** Adobe's IMS token endpoint (North America; the only public one). */
export const ADOBE_IMS_TOKEN_URL = 'https://ims-na1.adobelogin.com/ims/token/v3';
/** What an Adobe Commerce as a Cloud Service REST client needs; `commerce.accs` is the one that matters. */
export const DEFAULT_IMS_SCOPES = 'openid,AdobeID,commerce.accs';

export interface ImsClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
}

export interface ImsTokenOptions extends ImsClientCredentials {
  /**
   * Refresh this long before expiry; default a quarter of the token's life, at most 300 s (about 5 min
   * for Adobe's 24 h tokens, a second for a 4 s simulator token).
   */
  refreshMarginMs?: number;
  /** Epoch milliseconds (tests move it). */
  now?: () => number;
  timeoutMs?: number;
  outbound?: OutboundPolicy;
  /**
   * A token fetched less than this long ago is kept when a call reports it refused; default 60 s. The
   * store answers an ungranted resource with the same 401 as a withdrawn token, so without this every
   * call to such a resource would make a token request (IMS throttles them).
   */
  minRefreshIntervalMs?: number;
}

/** IMS refused the client credentials or could not be reached; the message says which, never the secret. */
export class ImsTokenError extends MagentoError {
  override name = 'ImsTokenError';
  declare readonly code: 'IMS_TOKEN';
  constructor(
    message: string,
    /** HTTP status of IMS's answer; 0 when there was none. */
    readonly status: number,
    /** IMS's `error` code (`invalid_client`, `invalid_scope`...), when it sent one. */
    readonly imsError?: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'IMS_TOKEN', options);
  }
}

interface Held {
  token: string;
  expiresAt: number;
  refreshAt: number;
  /** When the answer arrived (epoch ms). */
  fetchedAt: number;
}

/**
 * One IMS client's access token: fetched with client credentials, kept until shortly before it
 * expires, then fetched again. Concurrent callers share one request: a burst of sync calls after
 * expiry makes one token request, not one each (and not one per 401).
 */
export class ImsTokenProvider {
  private held: Held | undefined;
  private inFlight: Promise<Held> | undefined;
  private readonly now: () => number;
  /** Token requests sent (tests, status). */
  requests = 0;

  constructor(private readonly options: ImsTokenOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A token valid now; refreshed first when inside the refresh margin. */
  async token(): Promise<string> {
    const held = this.held;
    const now = this.now();
    if (held && now < held.refreshAt) return held.token;
    try {
      return (await this.refresh()).token;
    } catch (error) {
      // A refresh that failed before expiry leaves the current token usable; the next call tries again.
      if (held && now < held.expiresAt && this.held === held) return held.token;
      throw error;
    }
  }

  /**
   * The store refused `token` (revoked, or IMS rotated keys): the next call fetches a new one. Only
   * the token still held is dropped, so many 401s for one token cause one refresh; and only once it
   * is `minRefreshIntervalMs` old, so 401s cause at most one token request a minute. Magento answers
   * a resource the credential is not granted with the same 401 as a token it does not accept, so a
   * 401 alone cannot tell whether a new token would help.
   */
  invalidate(token: string): void {
    const held = this.held;
    if (held?.token !== token) return;
    if (this.now() - held.fetchedAt < (this.options.minRefreshIntervalMs ?? 60_000)) return;
    this.held = undefined;
  }

  /** When the held token expires (epoch ms), if one is held. */
  get expiresAt(): number | undefined {
    return this.held?.expiresAt;
  }

  private refresh(): Promise<Held> {
    this.inFlight ??= this.fetchToken().then(
      (held) => {
        this.held = held;
        this.inFlight = undefined;
        return held;
      },
      (error: unknown) => {
        this.inFlight = undefined;
        throw error;
      },
    );
    return this.inFlight;
  }

  private async fetchToken(): Promise<Held> {
    const { tokenUrl, clientId, clientSecret, scopes } = this.options;
    const url = new URL(tokenUrl);
    const policy = this.options.outbound ?? defaultOutboundPolicy();
    // The client secret travels in the body: production sends it over https only, unless listed.
    if (policy.refusePrivate && url.protocol !== 'https:' && !matchesAllowlist(url, policy.allowlist)) {
      throw new ImsTokenError(
        `Refused to send the client secret to ${url.origin} over plain http: production posts it only over https, unless the endpoint is listed in STORE_URL_ALLOWLIST.`,
        0,
      );
    }
    const guard = connectGuard(url, policy);
    guard.checkUrl(url);
    this.requests++;
    const sentAt = this.now();
    let status: number;
    let body: string;
    try {
      const response = await got.post(url, {
        form: {
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
          scope: scopes,
        },
        headers: { accept: 'application/json' },
        dnsLookup: guard.lookup,
        throwHttpErrors: false,
        followRedirect: false,
        // A POST of credentials is not repeated blindly; the caller's next call asks again.
        retry: { limit: 0 },
        timeout: { request: this.options.timeoutMs ?? 15_000 },
      });
      status = response.statusCode;
      body = response.body;
    } catch (error) {
      if (error instanceof MagentoError) throw error;
      const cause = error instanceof RequestError ? (error.cause ?? error) : error;
      if (cause instanceof MagentoError) throw cause;
      const code = error instanceof RequestError ? error.code : 'ERROR';
      throw new ImsTokenError(
        `Could not reach the IMS token endpoint ${url.origin}${url.pathname} (${code}). Check --ims-url / IMS_TOKEN_URL and the network.`,
        0,
        undefined,
        { cause: error },
      );
    }
    const json = parseJson(body);
    if (status !== 200) {
      const imsError = typeof json?.error === 'string' ? json.error : undefined;
      const description = typeof json?.error_description === 'string' ? json.error_description : undefined;
      throw new ImsTokenError(
        `IMS refused the client credentials (HTTP ${status}${imsError ? `, ${imsError}` : ''}` +
          `${description ? `: ${description}` : ''}). ${hint(imsError)}`,
        status,
        imsError,
      );
    }
    const token = json?.access_token;
    const expiresIn = Number(json?.expires_in);
    if (typeof token !== 'string' || token === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new ImsTokenError(
        'IMS answered 200 without an access_token and a positive expires_in; is --ims-url an IMS token endpoint?',
        status,
      );
    }
    if (typeof json?.token_type === 'string' && json.token_type.toLowerCase() !== 'bearer') {
      throw new ImsTokenError(`IMS issued a ${json.token_type} token, not a bearer token.`, status);
    }
    // Counted from when the request left: the token's life began at IMS before the answer arrived.
    const lifeMs = expiresIn * 1000;
    const margin = this.options.refreshMarginMs ?? Math.min(300_000, lifeMs / 4);
    return {
      token,
      expiresAt: sentAt + lifeMs,
      refreshAt: sentAt + Math.max(0, lifeMs - margin),
      fetchedAt: this.now(),
    };
  }
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function hint(imsError: string | undefined): string {
  switch (imsError) {
    case 'invalid_client':
      return 'Check the client ID and client secret of the OAuth Server-to-Server credential in the Adobe Developer Console.';
    case 'invalid_scope':
      return 'The credential is not allowed these scopes; it needs commerce.accs (add the Commerce API to its project).';
    default:
      return 'Check the client ID, client secret and scopes.';
  }
}

/**
 * Providers shared by every client of the process, one per IMS client (endpoint, id, secret, scopes):
 * each sync run and call builds its own MagentoClient, and they must not each fetch a token.
 */
const shared = new Map<string, ImsTokenProvider>();

export function sharedImsTokenProvider(credentials: ImsClientCredentials): ImsTokenProvider {
  // The secret is part of the identity (a rotated secret is a new client), hashed so it is not a map key.
  const id = createHash('sha256')
    .update(
      JSON.stringify([
        credentials.tokenUrl,
        credentials.clientId,
        credentials.clientSecret,
        credentials.scopes,
      ]),
    )
    .digest('base64url');
  let provider = shared.get(id);
  if (!provider) {
    provider = new ImsTokenProvider(credentials);
    shared.set(id, provider);
  }
  return provider;
}
