import type { Store as SessionStore } from 'express-session';
import { AppError } from '../errors.js';
import type { JobQueue } from './jobs.js';
import type { RecordStore } from './records.js';
import type { WebhookEventLog } from './webhook-events.js';

/**
 * What the connector keeps, behind interfaces so the embedded files can be swapped for a database.
 * Records hold secrets in clear in memory; adapters encrypt them at rest.
 */

export type IntegrationStatus =
  /** Callback received, exchange not started yet. */
  | 'pending'
  /** Asking the store for the request and access tokens. */
  | 'exchanging'
  | 'active'
  /** The exchange failed; `statusReason` says why (usually the store's oauth_problem). */
  | 'failed'
  /** A once-working token was refused: the merchant must Reauthorize in the store admin. */
  | 'needs_reauth'
  /** The store re-created the integration ("Reset"): a newer consumer key replaced this one. */
  | 'superseded';

/** Statuses whose token exchange is owed: recovery at start and the exchange job look for these. */
export const UNFINISHED_STATUSES: readonly IntegrationStatus[] = ['pending', 'exchanging'];

export interface ActivationEvent {
  at: string;
  step:
    | 'callback_received'
    | 'callback_repeated'
    | 'request_token'
    | 'access_token'
    | 'exchange_failed'
    | 'identity_link'
    | 'success_callback'
    | 'reauthorize'
    | 'reset'
    | 'needs_reauth'
    /** Registered without the handshake: pasted credentials or IMS client credentials. */
    | 'registered';
  ok: boolean;
  detail?: string;
}

/** A credential set that is no longer current, kept without its secrets. */
export interface CredentialHistoryEntry {
  consumerKey: string;
  reason: 'reauthorize' | 'reset';
  receivedAt: string;
  activatedAt?: string;
  replacedAt: string;
}

export interface SigningPreference {
  sort: 'byte' | 'natural';
  path: 'as-sent' | 'laminas';
}

/** The result of the dashboard's "test connection": one signed call plus a probe of common resources. */
export interface ConnectionCheck {
  at: string;
  ok: boolean;
  durationMs: number;
  /** The store's answer (pretty JSON, cut short) or the error message. */
  answer: string;
  /** Whether each probed ACL resource answered (true), was refused (false) or could not be told (null). */
  resources: { resource: string; label: string; granted: boolean | null }[];
}

/**
 * How the connector authenticates to a store: an OAuth 1.0a integration (Magento Open Source, Adobe
 * Commerce on-premises and Cloud PaaS) or IMS server-to-server (Adobe Commerce as a Cloud Service,
 * where integration tokens do not exist).
 */
export type StoreAuthMode = 'oauth1-integration' | 'ims-server-to-server';

/** The auth mode of a record; records written before the field existed are OAuth integrations. */
export const authModeOf = (record: Pick<IntegrationRecord, 'auth'>): StoreAuthMode =>
  record.auth ?? 'oauth1-integration';

/** IMS client-credentials settings of a Cloud Service store; the client secret is a secret field. */
export interface ImsSettings {
  /** The IMS token endpoint (Adobe's, or the simulator's). */
  tokenUrl: string;
  clientId: string;
  /** Comma-separated, as IMS takes them; includes commerce.accs. */
  scopes: string;
}

export interface IntegrationRecord {
  /**
   * The store's consumer key: the record's key. For an IMS store, a generated key of the same form
   * (the store has no consumer).
   */
  consumerKey: string;
  /**
   * As the store sent it, trailing slash included. For an IMS store, the instance's REST base
   * (`https://<host>/<tenant-id>/`): calls go to `{storeBaseUrl}V1/...`.
   */
  storeBaseUrl: string;
  storeOrigin: string;
  status: IntegrationStatus;
  statusReason?: string;
  /** Absent: `oauth1-integration`. */
  auth?: StoreAuthMode;
  /** How the credentials arrived: the activation handshake (absent), pasted by an operator, or IMS. */
  registration?: 'handshake' | 'manual' | 'ims';
  /** IMS stores only. */
  ims?: ImsSettings;
  /** Secret (encrypted at rest): the IMS client secret of an IMS store. */
  imsClientSecret?: string;
  /** Secret (encrypted at rest). Absent on IMS stores. */
  consumerSecret?: string;
  /** Secret (encrypted at rest); one-time, kept until the exchange ends. Absent without a handshake. */
  verifier?: string;
  accessToken?: string;
  /** Secret (encrypted at rest). */
  accessTokenSecret?: string;
  /**
   * Secret (encrypted at rest): kept between the two exchange steps, because Magento issues a request
   * token only once per verifier; an exchange resumed after a crash continues from here.
   */
  requestToken?: string;
  /** Secret (encrypted at rest). */
  requestTokenSecret?: string;
  signatureMethod: 'HMAC-SHA256' | 'HMAC-SHA1';
  /** The base-string rules this store turned out to follow (learned on the first refusal). */
  signing?: SigningPreference;
  /** When the store's callback POST arrived: the 300 s request-token window starts here. */
  receivedAt: string;
  activatedAt?: string;
  /** The user who completed the identity-link login for this key. */
  userId?: string;
  linkedAt?: string;
  /** For a superseded record: the consumer key that replaced it. */
  supersededBy?: string;
  /** Which process runs the token exchange, until when: another instance takes over after `until`. */
  lease?: { owner: string; until: string };
  callbackCount: number;
  lastCheck?: ConnectionCheck;
  /** Seconds between scheduled syncs per entity for this store, over SYNC_INTERVALS (0 = off). */
  syncIntervals?: Record<string, number>;
  /** What verifies this store's webhook deliveries (public keys: not secrets). */
  webhooks?: WebhookSettings;
  createdAt: string;
  updatedAt: string;
  events: ActivationEvent[];
  history: CredentialHistoryEntry[];
}

/** Public keys (PEM, validated when set) that verify a store's webhook deliveries. */
export interface WebhookSettings {
  /** The key shown in the store's admin (Stores > Configuration > Adobe Services > Webhooks). */
  commercePublicKey?: string;
  /** An Adobe I/O Events registration: our client id (`recipient_client_id`) and its public keys. */
  ioEvents?: { clientId: string; publicKeys: string[] };
  updatedAt: string;
}

/** The fields every adapter encrypts at rest. */
export const INTEGRATION_SECRET_FIELDS = [
  'consumerSecret',
  'verifier',
  'accessToken',
  'accessTokenSecret',
  'requestToken',
  'requestTokenSecret',
  'imsClientSecret',
] as const;

export interface IntegrationFilter {
  statuses?: readonly IntegrationStatus[];
  /** Only the stores this user linked. */
  userId?: string;
  /**
   * false: the records without their secret fields (nothing decrypted), for scans over every store
   * that need none, such as the sync scheduler's tick.
   */
  secrets?: false;
}

export interface IntegrationStore {
  get(consumerKey: string): Promise<IntegrationRecord | undefined>;
  /** Matching records, newest first (by createdAt). */
  list(filter?: IntegrationFilter): Promise<IntegrationRecord[]>;
  /** Records for one store (same canonical storeBaseUrl), newest first. */
  listByStore(storeBaseUrl: string): Promise<IntegrationRecord[]>;
  /** Inserts a new record; throws `DuplicateError` when the consumer key exists (two instances raced). */
  create(record: IntegrationRecord): Promise<void>;
  /** Inserts or replaces a record. */
  put(record: IntegrationRecord): Promise<void>;
  /**
   * Atomic read-modify-write, across processes and instances: `change` sees the current record and
   * returns the new one, or `undefined` to leave it as it is (a compare-and-set that lost). No other
   * write interleaves; `change` may run more than once. Throws `NotFoundError` when the record does not exist.
   */
  update(
    consumerKey: string,
    change: (current: IntegrationRecord) => IntegrationRecord | undefined,
  ): Promise<IntegrationRecord>;
  /** Removes a record (a pruned candidate, an unlinked store); false when there was none. */
  delete(consumerKey: string): Promise<boolean>;
}

/** `admin` sees and operates every store; `user` only the stores they linked. Absent = `user`. */
export type UserRole = 'admin' | 'user';

export interface UserRecord {
  id: string;
  email: string;
  /** `scrypt$N$r$p$salt$hash`, base64 parts. */
  passwordHash: string;
  role?: UserRole;
  createdAt: string;
  lastLoginAt?: string;
}

export interface UserStore {
  getById(id: string): Promise<UserRecord | undefined>;
  getByEmail(email: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  /** Throws `DuplicateError` when the email is taken (case-insensitive). */
  create(user: UserRecord): Promise<void>;
  /** Atomic read-modify-write; the id and email stay as they are. Throws `NotFoundError`. */
  update(id: string, change: (current: UserRecord) => UserRecord): Promise<UserRecord>;
  delete(id: string): Promise<boolean>;
}

export interface SessionEntry {
  /** express-session's serialised session data. */
  data: string;
  expiresAt: string;
}

export interface SessionStoreBackend {
  get(sid: string): Promise<SessionEntry | undefined>;
  set(sid: string, entry: SessionEntry): Promise<void>;
  destroy(sid: string): Promise<void>;
  /** Drops expired sessions; returns how many. */
  prune(now: Date): Promise<number>;
}

/** Equality on top-level string fields of a document, e.g. `{ storeKey, entity }`. */
export type DocumentFilter = Record<string, string>;

/** A collection of JSON documents by id (sync jobs, run log, cursors, alerts). */
export interface DocumentStore<T extends { id: string }> {
  get(id: string): Promise<T | undefined>;
  /** Every document, or those whose fields equal the filter's. */
  list(filter?: DocumentFilter): Promise<T[]>;
  put(doc: T): Promise<void>;
  /** Atomic read-modify-write; `change` gets undefined when the document does not exist. */
  update(id: string, change: (current: T | undefined) => T): Promise<T>;
  delete(id: string): Promise<void>;
}

export type DocumentCollection =
  'sync_jobs' | 'sync_runs' | 'sync_cursors' | 'alerts' | 'queue_jobs' | 'sync_workers';

/**
 * Change notices between instances (and processes sharing one data dir): the identity page waits on
 * `integration:<key>`, the dashboard's live status on the same. A notice says "look again", never what changed.
 */
export interface ChangeNotices {
  /** Reaches every subscriber, in this process and in the others. */
  publish(topic: string): Promise<void>;
  subscribe(topic: string, listener: () => void): () => void;
}

/** What a key rotation re-encrypted. */
export interface KeyRotation {
  integrations: number;
  secrets: number;
}

export interface Storage {
  readonly kind: 'embedded' | 'postgres';
  integrations: IntegrationStore;
  users: UserStore;
  /**
   * The express-session store on this storage (the web layer hashes session ids before they reach it).
   * One per process: the embedded one prunes on a timer, the PostgreSQL one is connect-pg-simple.
   */
  sessionStore(): SessionStore;
  documents<T extends { id: string }>(collection: DocumentCollection): DocumentStore<T>;
  /** Synced entities (products, customers, orders...). */
  records: RecordStore;
  /** Webhook event ids already applied (dedupe of at-least-once deliveries). */
  webhookEvents: WebhookEventLog;
  notices: ChangeNotices;
  /** Durable jobs: token exchanges and sync runs; any instance may run any job. */
  queue: JobQueue;
  /** Resolves when the store answers (the health endpoint). */
  ping(): Promise<void>;
  /** Stops the queue (bounded), then closes. Writes queued before close still complete. */
  close(): Promise<void>;
}

export class DuplicateError extends AppError {
  override name = 'DuplicateError';
  declare readonly code: 'duplicate_record';
  constructor(message: string, options?: ErrorOptions) {
    super('duplicate_record', message, options);
  }
}

export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  declare readonly code: 'record_not_found';
  constructor(message: string, options?: ErrorOptions) {
    super('record_not_found', message, options);
  }
}
