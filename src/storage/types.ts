/**
 * What the connector keeps, behind interfaces so the lowdb file can be swapped for a database.
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
    | 'needs_reauth';
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

export interface IntegrationRecord {
  /** The store's consumer key: the record's key. */
  consumerKey: string;
  /** As the store sent it, trailing slash included. */
  storeBaseUrl: string;
  storeOrigin: string;
  status: IntegrationStatus;
  statusReason?: string;
  /** Secret (encrypted at rest). */
  consumerSecret: string;
  /** Secret (encrypted at rest); one-time, kept until the exchange ends. */
  verifier: string;
  accessToken?: string;
  /** Secret (encrypted at rest). */
  accessTokenSecret?: string;
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
  callbackCount: number;
  lastCheck?: ConnectionCheck;
  /** Seconds between scheduled syncs per entity for this store, over SYNC_INTERVALS (0 = off). */
  syncIntervals?: Record<string, number>;
  createdAt: string;
  updatedAt: string;
  events: ActivationEvent[];
  history: CredentialHistoryEntry[];
}

export interface IntegrationStore {
  get(consumerKey: string): Promise<IntegrationRecord | undefined>;
  list(): Promise<IntegrationRecord[]>;
  /** Records for one store (same storeBaseUrl), newest first. */
  listByStore(storeBaseUrl: string): Promise<IntegrationRecord[]>;
  /** Inserts or replaces a record. */
  put(record: IntegrationRecord): Promise<void>;
  /**
   * Atomic read-modify-write: `change` sees the current record and returns the new one; no other
   * write interleaves. Throws when the record does not exist.
   */
  update(
    consumerKey: string,
    change: (current: IntegrationRecord) => IntegrationRecord,
  ): Promise<IntegrationRecord>;
}

export interface UserRecord {
  id: string;
  email: string;
  /** `scrypt$N$r$p$salt$hash`, base64 parts. */
  passwordHash: string;
  createdAt: string;
}

export interface UserStore {
  getById(id: string): Promise<UserRecord | undefined>;
  getByEmail(email: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  /** Throws `DuplicateError` when the email is taken (case-insensitive). */
  create(user: UserRecord): Promise<void>;
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

/** A small collection of JSON documents by id (sync jobs, run log, cursors, alerts). */
export interface DocumentStore<T extends { id: string }> {
  get(id: string): Promise<T | undefined>;
  list(): Promise<T[]>;
  put(doc: T): Promise<void>;
  /** Atomic read-modify-write; `change` gets undefined when the document does not exist. */
  update(id: string, change: (current: T | undefined) => T): Promise<T>;
  delete(id: string): Promise<void>;
}

export type DocumentCollection = 'sync_jobs' | 'sync_runs' | 'sync_cursors' | 'alerts';

export interface Storage {
  integrations: IntegrationStore;
  users: UserStore;
  sessions: SessionStoreBackend;
  documents<T extends { id: string }>(collection: DocumentCollection): DocumentStore<T>;
  close(): Promise<void>;
}

export class DuplicateError extends Error {
  override name = 'DuplicateError';
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}
