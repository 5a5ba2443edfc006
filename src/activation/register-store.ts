import { randomInt } from 'node:crypto';
import { AppError } from '../errors.js';
import { MagentoClient } from '../magento/client.js';
import { MagentoAuthError, MagentoError } from '../magento/errors.js';
import { ImsTokenError, ImsTokenProvider } from '../magento/ims-token.js';
import type { OutboundPolicy } from '../magento/outbound-guard.js';
import type { IntegrationRecord } from '../storage/types.js';
import { canonicalStoreUrl } from './store-url-policy.js';

/**
 * Stores connected without the activation handshake: a manual integration's four credentials, as the
 * store admin shows them (Adobe's starter kit's way), or an Adobe Commerce as a Cloud Service
 * instance's IMS client credentials. Both become an active integration record used like any other.
 */

/** Raised for input an operator must correct; the message says what and how. */
export class RegistrationError extends AppError {
  override name = 'RegistrationError';
  declare readonly code: 'registration_invalid';
  constructor(message: string) {
    super('registration_invalid', message);
  }
}

const MAGENTO_CREDENTIAL = /^[0-9a-z]{32}$/;
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A record key of the consumer keys' form, for a store that has no consumer (IMS). */
export function generatedStoreKey(): string {
  let out = '';
  for (let i = 0; i < 32; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

function canonical(raw: string, what: string): string {
  const url = canonicalStoreUrl(raw);
  if (typeof url !== 'string') throw new RegistrationError(url.error.replace('store_base_url', what));
  return url;
}

export interface ManualIntegrationInput {
  /** The store's base URL (the one its admin runs under, without rest/). */
  storeBaseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
  signatureMethod: 'HMAC-SHA256' | 'HMAC-SHA1';
  userId?: string;
}

export function manualIntegrationRecord(input: ManualIntegrationInput, at: string): IntegrationRecord {
  const storeBaseUrl = canonical(input.storeBaseUrl, '--url');
  if (/\/rest\/$/.test(new URL(storeBaseUrl).pathname)) {
    throw new RegistrationError(
      `--url is the store's base URL, without rest/ (${storeBaseUrl.replace(/rest\/$/, '')}); the connector adds rest/V1/...`,
    );
  }
  const fields = {
    'consumer key': input.consumerKey,
    'consumer secret': input.consumerSecret,
    'access token': input.accessToken,
    'access token secret': input.accessTokenSecret,
  };
  for (const [name, value] of Object.entries(fields)) {
    if (!MAGENTO_CREDENTIAL.test(value)) {
      throw new RegistrationError(
        `The ${name} must be 32 characters of 0-9 and a-z, as the store admin shows it (System > Extensions > Integrations > Edit > Integration Details).`,
      );
    }
  }
  return {
    consumerKey: input.consumerKey,
    storeBaseUrl,
    storeOrigin: new URL(storeBaseUrl).origin,
    status: 'active',
    auth: 'oauth1-integration',
    registration: 'manual',
    consumerSecret: input.consumerSecret,
    accessToken: input.accessToken,
    accessTokenSecret: input.accessTokenSecret,
    signatureMethod: input.signatureMethod,
    receivedAt: at,
    activatedAt: at,
    ...(input.userId ? { userId: input.userId, linkedAt: at } : {}),
    callbackCount: 0,
    createdAt: at,
    updatedAt: at,
    events: [
      {
        at,
        step: 'registered',
        ok: true,
        detail: 'manual integration: credentials pasted from the store admin',
      },
    ],
    history: [],
  };
}

export interface ImsStoreInput {
  /** The instance's REST base, `https://<host>/<tenant-id>/` (shown in the instance details). */
  restBaseUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
  tokenUrl: string;
  userId?: string;
}

export function imsStoreRecord(input: ImsStoreInput, at: string): IntegrationRecord {
  let restBase = canonical(input.restBaseUrl, '--url');
  // A URL copied with the API version or an endpoint after the tenant id.
  restBase = restBase.replace(/\/V1\/.*$/, '/');
  if (new URL(restBase).pathname === '/') {
    throw new RegistrationError(
      '--url must be the instance REST base with its tenant id, e.g. https://na1.api.commerce.adobe.com/<tenant-id>/ (Experience Cloud > Commerce > instance details).',
    );
  }
  const tokenUrl = canonical(input.tokenUrl, '--ims-url').replace(/\/$/, '');
  if (!/^[A-Za-z0-9._@-]{1,200}$/.test(input.clientId)) {
    throw new RegistrationError('The IMS client ID must be 1-200 letters, digits, ".", "_", "@" or "-".');
  }
  if (input.clientSecret === '' || input.clientSecret.length > 512 || /\s/.test(input.clientSecret)) {
    throw new RegistrationError('The IMS client secret must be 1-512 characters without spaces.');
  }
  const scopes = input.scopes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!scopes.includes('commerce.accs')) {
    throw new RegistrationError(
      'The IMS scopes must include commerce.accs, the scope of the Adobe Commerce as a Cloud Service APIs.',
    );
  }
  return {
    consumerKey: generatedStoreKey(),
    storeBaseUrl: restBase,
    storeOrigin: new URL(restBase).origin,
    status: 'active',
    auth: 'ims-server-to-server',
    registration: 'ims',
    ims: { tokenUrl, clientId: input.clientId, scopes: scopes.join(',') },
    imsClientSecret: input.clientSecret,
    signatureMethod: 'HMAC-SHA256',
    receivedAt: at,
    activatedAt: at,
    ...(input.userId ? { userId: input.userId, linkedAt: at } : {}),
    callbackCount: 0,
    createdAt: at,
    updatedAt: at,
    events: [{ at, step: 'registered', ok: true, detail: 'IMS server-to-server credentials' }],
    history: [],
  };
}

export type CredentialCheck = { ok: true; detail: string } | { ok: false; message: string };

/**
 * One cheap call (`GET V1/store/storeConfigs`) with the record's credentials, before it is stored.
 * `outbound` says which addresses the store and the IMS endpoint may be reached at (default: the
 * process default, permissive in a CLI).
 */
export async function checkStoreCredentials(
  record: IntegrationRecord,
  options: { timeoutMs?: number; outbound?: OutboundPolicy } = {},
): Promise<CredentialCheck> {
  const { outbound } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const ims = record.ims && record.imsClientSecret;
  const client =
    record.auth === 'ims-server-to-server' && record.ims && ims
      ? new MagentoClient({
          storeBaseUrl: record.storeBaseUrl,
          bearer: new ImsTokenProvider({ ...record.ims, clientSecret: ims, timeoutMs, outbound }),
          restPath: '',
          timeoutMs,
          outbound,
          retry: { limit: 0 },
        })
      : new MagentoClient({
          storeBaseUrl: record.storeBaseUrl,
          credentials: {
            consumerKey: record.consumerKey,
            consumerSecret: record.consumerSecret ?? '',
            token: record.accessToken ?? '',
            tokenSecret: record.accessTokenSecret ?? '',
          },
          signatureMethod: record.signatureMethod,
          timeoutMs,
          outbound,
          retry: { limit: 0 },
        });
  const started = performance.now();
  try {
    const configs = await client.get<{ base_url?: string }[]>('V1/store/storeConfigs');
    const ms = Math.round(performance.now() - started);
    const own = Array.isArray(configs) ? configs[0]?.base_url : undefined;
    return {
      ok: true,
      detail: `GET V1/store/storeConfigs answered in ${ms} ms${own ? ` (store ${own})` : ''}.`,
    };
  } catch (error) {
    return { ok: false, message: explain(error, record) };
  }
}

function explain(error: unknown, record: IntegrationRecord): string {
  if (error instanceof ImsTokenError) return `Getting an IMS token failed: ${error.message}`;
  if (error instanceof MagentoAuthError) {
    return record.auth === 'ims-server-to-server'
      ? `IMS issued a token, but the store refused it (HTTP ${error.status}: ${error.message}). Check that --url is this credential's instance and that its technical account has an admin role there.`
      : `The store refused the credentials (HTTP ${error.status}: ${error.message}). Check all four values and that the integration is Active with the Stores > Settings resource granted.`;
  }
  if (error instanceof MagentoError) return `The check call failed: ${error.message}`;
  return `The check call failed: ${(error as Error).message}`;
}
