import { EventEmitter } from 'node:events';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  decryptSecret,
  DecryptionError,
  DifferentKeyError,
  encryptSecret,
  keyFingerprint,
  secretContext,
  type WarnLogger,
} from '../crypto.js';
import { createDocumentJobQueue, type QueuedJobDocument } from '../document-job-queue.js';
import { createFileRecordStore } from '../file-record-store.js';
import { PersistentSessionStore } from '../session-store.js';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import {
  type DocumentCollection,
  type KeyRotation,
  type DocumentStore,
  DuplicateError,
  INTEGRATION_SECRET_FIELDS,
  NotFoundError,
  type IntegrationRecord,
  type IntegrationStore,
  type SessionEntry,
  type SessionStoreBackend,
  type Storage,
  type UserRecord,
  type UserStore,
} from '../types.js';
import { Journal, type Decode, type Entry, type JournalStats } from './journal.js';
import { FileLock } from './lock.js';
import { keepOriginal, readV1 } from './migrate.js';
import { createEmbeddedWebhookEventLog } from './webhook-event-log.js';

/** The snapshot of integrations, users and sessions; the name the single-file format had. */
export const DB_FILE_NAME = 'db.json';

const INTEGRATIONS = 'integrations';
const USERS = 'users';
const SESSIONS = 'sessions';
const SECRET_FIELDS = INTEGRATION_SECRET_FIELDS;

export interface EmbeddedStorage extends Storage {
  sessions: SessionStoreBackend;
  /**
   * Re-encrypts every secret with `newKey` in one new snapshot; this instance goes on with the new key.
   * Another process still holding the old key fails its next read or write instead of mixing keys.
   */
  rotateKey(newKey: Buffer): Promise<KeyRotation>;
  /** Counters of the two journals and their locks (tests, benchmarks). */
  journalStats(): Record<'db' | 'sync', JournalStats & { locks: number }>;
}

export interface EmbeddedStorageOptions {
  dataDir: string;
  key: Buffer;
  logger?: WarnLogger;
  /** Compact a journal once it passes this size (and the snapshot's); default 1 MiB. */
  compactBytes?: number;
  /** Fold the journals into the snapshots on close (default true; tests of crashes turn it off). */
  compactOnClose?: boolean;
}

const copy = <T>(value: T): T => structuredClone(value);
function withoutSecrets(record: IntegrationRecord): IntegrationRecord {
  const out = { ...record };
  for (const field of INTEGRATION_SECRET_FIELDS) delete out[field];
  return structuredClone(out);
}
const normaliseEmail = (email: string) => email.trim().toLowerCase();
/** As PostgreSQL lists them: newest first, then by consumer key (a stable order for equal times). */
const newestFirst = (a: IntegrationRecord, b: IntegrationRecord) =>
  Date.parse(b.createdAt) - Date.parse(a.createdAt) ||
  (a.consumerKey < b.consumerKey ? -1 : a.consumerKey > b.consumerKey ? 1 : 0);
const valuesOf = <T>(table: Map<string, Entry>): T[] => [...table.values()].map((e) => e.value as T);
const unchanged = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The embedded default storage: two journals under DATA_DIR, each an append-only file of changes over a
 * snapshot (see Journal). `db` holds integrations, users and sessions; `sync` the sync documents and the
 * job queue, so that sync churn never delays an activation's write. Several processes (the server and a
 * CLI) may open the same folder: every write runs against the state all of them appended.
 *
 * Files: `db.json` + `db.<n>.journal`, `sync.json` + `sync.<n>.journal`, `db.lock`/`sync.lock` while a
 * batch is written, `records/` (synced entities). A version 1 `db.json` is imported on first open.
 */
export async function createEmbeddedStorage(options: EmbeddedStorageOptions): Promise<EmbeddedStorage> {
  const { logger } = options;
  let key = options.key;
  const dir = options.dataDir;
  // 0700 when we create it: the files hold password hashes and session ids.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let fingerprint = keyFingerprint(key);
  const differentKey = (file: string, cause?: unknown) =>
    new DifferentKeyError(
      `${file} was encrypted with a different TOKEN_ENCRYPTION_KEY; set the key it was written with ` +
        '(after an interrupted `npm run key -- rotate`, run it again).',
      { cause },
    );

  function decryptIntegration(stored: IntegrationRecord): IntegrationRecord {
    const out = { ...stored };
    for (const field of SECRET_FIELDS) {
      const value = stored[field];
      if (value !== undefined)
        out[field] = decryptSecret(value, key, secretContext(stored.consumerKey, field));
    }
    return out;
  }

  const decode: Decode = (collection, consumerKey, stored, file, previous) => {
    if (collection !== INTEGRATIONS) return stored;
    const record = stored as IntegrationRecord;
    const before = previous?.stored as IntegrationRecord | undefined;
    if (before && SECRET_FIELDS.every((field) => before[field] === record[field])) {
      // Same ciphertexts (kept across updates): the secrets are those already decrypted. This spares
      // decrypting every record again when another process compacts and this one reloads.
      const plain = previous!.value as IntegrationRecord;
      const out = { ...record };
      for (const field of SECRET_FIELDS) if (record[field] !== undefined) out[field] = plain[field]!;
      return out;
    }
    try {
      return decryptIntegration(record);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      throw new Error(
        `${file}: the secrets of integration ${consumerKey} cannot be decrypted (the file was modified).`,
        { cause: error },
      );
    }
  };

  const syncLock = new FileLock(path.join(dir, 'sync'), logger);
  const dbLock = new FileLock(path.join(dir, 'db'), logger);
  const openSync = (initial?: Record<string, [string, unknown][]>) =>
    Journal.open({
      dir,
      name: 'sync',
      lock: syncLock,
      logger,
      initial,
      compactBytes: options.compactBytes,
      compactOnClose: options.compactOnClose,
    });

  let sync: Journal | undefined;
  let db: Journal;
  try {
    db = await Journal.open({
      dir,
      name: 'db',
      lock: dbLock,
      decode,
      indexes: { [INTEGRATIONS]: (value) => (value as IntegrationRecord).storeBaseUrl },
      keyId: fingerprint,
      logger,
      // Other processes' change notices arrive through this journal.
      follow: true,
      compactBytes: options.compactBytes,
      compactOnClose: options.compactOnClose,
      verify(snapshot, file) {
        if (snapshot.keyId !== undefined && snapshot.keyId !== fingerprint) throw differentKey(file);
      },
      async upgrade(_data, file) {
        // Earlier versions wrote db.json whole with lowdb; it reads that file back for the import.
        const legacy = new Low<unknown>(new JSONFile<unknown>(file), null);
        await legacy.read();
        const v1 = readV1(legacy.data, file);
        if (v1.keyId !== undefined && v1.keyId !== fingerprint) throw differentKey(file);
        for (const [consumerKey, stored] of v1.db.integrations ?? []) {
          try {
            decryptIntegration(stored as IntegrationRecord);
          } catch (error) {
            if (!(error instanceof DecryptionError)) throw error;
            // Without a fingerprint a wrong key and a modified file look alike; the key is the likelier.
            if (v1.keyId === undefined) throw differentKey(file, error);
            throw new Error(
              `${file}: the secrets of integration ${consumerKey} cannot be decrypted (the file was modified).`,
              { cause: error },
            );
          }
        }
        await keepOriginal(file);
        // The sync documents first (under both locks, always in this order): once db.json is replaced,
        // this import is not run again. A sync.json that exists already (an earlier attempt stopped
        // before db.json was replaced) is kept.
        sync = await openSync(v1.sync);
        return v1.db;
      },
    });
    sync ??= await openSync();
  } catch (error) {
    await sync?.close();
    throw error;
  }
  const syncJournal: Journal = sync;

  const integrationTable = () => db.table(INTEGRATIONS);
  const userTable = () => db.table(USERS);
  const sessionTable = () => db.table(SESSIONS);

  /**
   * Ciphertexts for the secrets that differ from the record in memory, made before the batch so that
   * the encryption does not lengthen the time the lock is held.
   */
  function prepareSecrets(next: IntegrationRecord): Partial<IntegrationRecord> {
    const plain = integrationTable().get(next.consumerKey)?.value as IntegrationRecord | undefined;
    const out: Partial<IntegrationRecord> = {};
    for (const field of SECRET_FIELDS) {
      const value = next[field];
      if (value !== undefined && plain?.[field] !== value)
        out[field] = encryptSecret(value, key, secretContext(next.consumerKey, field));
    }
    return out;
  }

  /** The stored form: an unchanged secret keeps its ciphertext (no needless re-encryption). */
  function encryptIntegration(next: IntegrationRecord, prepared: Partial<IntegrationRecord> = {}) {
    const before = integrationTable().get(next.consumerKey);
    const plain = before?.value as IntegrationRecord | undefined;
    const stored = before?.stored as IntegrationRecord | undefined;
    const out = { ...next };
    for (const field of SECRET_FIELDS) {
      const value = next[field];
      if (value === undefined) continue;
      const kept = plain?.[field] === value ? stored?.[field] : undefined;
      out[field] =
        kept ?? prepared[field] ?? encryptSecret(value, key, secretContext(next.consumerKey, field));
    }
    return out;
  }

  const integrationStore: IntegrationStore = {
    async get(consumerKey) {
      await db.fresh();
      const record = integrationTable().get(consumerKey)?.value as IntegrationRecord | undefined;
      return record && copy(record);
    },
    async list(filter = {}) {
      await db.fresh();
      return valuesOf<IntegrationRecord>(integrationTable())
        .filter((r) => !filter.statuses || filter.statuses.includes(r.status))
        .filter((r) => filter.userId === undefined || r.userId === filter.userId)
        .sort(newestFirst)
        .map(filter.secrets === false ? withoutSecrets : copy);
    },
    async listByStore(storeBaseUrl) {
      await db.fresh();
      return integrationTable()
        .withField(storeBaseUrl)
        .map((e) => e.value as IntegrationRecord)
        .sort(newestFirst)
        .map(copy);
    },
    put(record) {
      const next = copy(record);
      const prepared = prepareSecrets(next);
      return db.commit((tx) => {
        tx.put(INTEGRATIONS, next.consumerKey, next, encryptIntegration(next, prepared));
      });
    },
    create(record) {
      const next = copy(record);
      const prepared = prepareSecrets(next);
      return db.commit((tx) => {
        if (integrationTable().has(next.consumerKey)) {
          throw new DuplicateError(`An integration with consumer key ${next.consumerKey} exists.`);
        }
        tx.put(INTEGRATIONS, next.consumerKey, next, encryptIntegration(next, prepared));
      });
    },
    update(consumerKey, change) {
      return db.commit((tx) => {
        const current = integrationTable().get(consumerKey)?.value as IntegrationRecord | undefined;
        if (!current) throw new NotFoundError(`No integration with consumer key ${consumerKey}.`);
        const changed = change(copy(current));
        if (changed === undefined) return copy(current);
        const next = copy(changed);
        if (next.consumerKey !== consumerKey) {
          throw new Error('An update cannot change the consumer key; put a new record instead.');
        }
        if (!unchanged(current, next)) tx.put(INTEGRATIONS, consumerKey, next, encryptIntegration(next));
        return copy(next);
      });
    },
    delete(consumerKey) {
      return db.commit((tx) => tx.delete(INTEGRATIONS, consumerKey));
    },
  };

  const userStore: UserStore = {
    async getById(id) {
      await db.fresh();
      const user = userTable().get(id)?.value as UserRecord | undefined;
      return user && copy(user);
    },
    async getByEmail(email) {
      await db.fresh();
      const wanted = normaliseEmail(email);
      const user = valuesOf<UserRecord>(userTable()).find((u) => normaliseEmail(u.email) === wanted);
      return user && copy(user);
    },
    async list() {
      await db.fresh();
      return valuesOf<UserRecord>(userTable()).map(copy);
    },
    create(user) {
      const next = copy(user);
      return db.commit((tx) => {
        // Checked against what every process has written: the lock makes check and append one step.
        const email = normaliseEmail(next.email);
        if (valuesOf<UserRecord>(userTable()).some((u) => normaliseEmail(u.email) === email)) {
          throw new DuplicateError(`A user with the email ${next.email} already exists.`);
        }
        if (userTable().has(next.id))
          throw new DuplicateError(`A user with the id ${next.id} already exists.`);
        tx.put(USERS, next.id, next);
      });
    },
    update(id, change) {
      return db.commit((tx) => {
        const before = userTable().get(id)?.value as UserRecord | undefined;
        if (!before) throw new NotFoundError(`No user with id ${id}.`);
        const next = { ...copy(change(copy(before))), id: before.id, email: before.email };
        if (!unchanged(before, next)) tx.put(USERS, id, next);
        return copy(next);
      });
    },
    delete(id) {
      return db.commit((tx) => tx.delete(USERS, id));
    },
  };

  const sessionBackend: SessionStoreBackend = {
    async get(sid) {
      await db.fresh();
      const entry = sessionTable().get(sid)?.value as SessionEntry | undefined;
      return entry && copy(entry);
    },
    set(sid, entry) {
      const next = copy(entry);
      return db.commit((tx) => {
        tx.put(SESSIONS, sid, next);
      });
    },
    destroy(sid) {
      return db.commit((tx) => {
        tx.delete(SESSIONS, sid);
      });
    },
    prune(now) {
      return db.commit((tx) => {
        const expired = [...sessionTable()]
          .filter(([, e]) => !(Date.parse((e.value as SessionEntry).expiresAt) > now.getTime()))
          .map(([sid]) => sid);
        for (const sid of expired) tx.delete(SESSIONS, sid);
        return expired.length;
      });
    },
  };

  function documentStore<T extends { id: string }>(name: DocumentCollection): DocumentStore<T> {
    const table = () => syncJournal.table(name);
    return {
      async get(id) {
        await syncJournal.fresh();
        const doc = table().get(id)?.value as T | undefined;
        return doc && copy(doc);
      },
      async list(filter) {
        await syncJournal.fresh();
        const wanted = Object.entries(filter ?? {});
        return valuesOf<T>(table())
          .filter((d) => wanted.every(([k, v]) => (d as Record<string, unknown>)[k] === v))
          .map(copy);
      },
      put(doc) {
        const next = copy(doc);
        return syncJournal.commit((tx) => {
          tx.put(name, next.id, next);
        });
      },
      update(id, change) {
        return syncJournal.commit((tx) => {
          const current = table().get(id)?.value as T | undefined;
          const changed = change(current && copy(current));
          // The job queue answers "nothing to do" with what it was given, possibly undefined: no write,
          // and the same answer back (undefined despite the type, which callers of that case expect).
          if (changed === undefined) return (current && copy(current)) as T;
          const next = copy(changed);
          if (next.id !== id) throw new Error('An update cannot change the document id.');
          if (!current || !unchanged(current, next)) tx.put(name, id, next);
          return copy(next);
        });
      },
      delete(id) {
        return syncJournal.commit((tx) => {
          tx.delete(name, id);
        });
      },
    };
  }

  const changes = new EventEmitter().setMaxListeners(0);
  db.onNotice((topic) => changes.emit(topic));
  const records = createFileRecordStore(path.join(dir, 'records'));
  const jobQueue = createDocumentJobQueue({ jobs: documentStore<QueuedJobDocument>('queue_jobs') });
  let sessionsStore: PersistentSessionStore | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  const outgoingNotices = new Set<string>();
  let noticeFlush: NodeJS.Timeout | undefined;
  let noticesWritten: Promise<void> = Promise.resolve();
  function flushNotices(): void {
    noticeFlush = undefined;
    const topics = [...outgoingNotices];
    outgoingNotices.clear();
    if (topics.length === 0 || closed) return;
    noticesWritten = db
      .commit((tx) => topics.forEach((topic) => tx.notice(topic)))
      .catch((error: unknown) => logger?.warn({ err: error }, 'change notices not written'));
  }

  return {
    kind: 'embedded',
    integrations: integrationStore,
    documents: documentStore,
    users: userStore,
    sessions: sessionBackend,
    sessionStore() {
      sessionsStore ??= new PersistentSessionStore(sessionBackend);
      return sessionsStore;
    },
    records,
    webhookEvents: createEmbeddedWebhookEventLog(syncJournal),
    queue: jobQueue,
    notices: {
      async publish(topic) {
        if (closed) throw new Error('Storage is closed.');
        changes.emit(topic);
        // Other processes read notices from the journal. They are written together a moment later,
        // without an fsync, so a burst of changes costs one append rather than one lock cycle each.
        outgoingNotices.add(topic);
        noticeFlush ??= setTimeout(flushNotices, 20);
      },
      subscribe(topic, listener) {
        changes.on(topic, listener);
        return () => changes.off(topic, listener);
      },
    },
    async ping() {
      if (closed) throw Object.assign(new Error('Storage is closed.'), { code: 'STORAGE_CLOSED' });
      // A quick read of the disk: a data folder removed, unmounted or made read-only shows here
      // rather than on the next write.
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
      await access(path.join(dir, 'db.json'), constants.R_OK);
    },
    async rotateKey(newKey) {
      if (closed) throw new Error('Storage is closed.');
      const newFingerprint = keyFingerprint(newKey);
      const done: KeyRotation = { integrations: 0, secrets: 0 };
      await db.rewrite(newFingerprint, (collection, consumerKey, entry) => {
        if (collection !== INTEGRATIONS) return entry.stored;
        const plain = entry.value as IntegrationRecord;
        const out = { ...(entry.stored as IntegrationRecord) };
        for (const field of SECRET_FIELDS) {
          const value = plain[field];
          if (value === undefined) continue;
          out[field] = encryptSecret(value, newKey, secretContext(consumerKey, field));
          done.secrets++;
        }
        done.integrations++;
        return out;
      });
      key = newKey;
      fingerprint = newFingerprint;
      return done;
    },
    journalStats() {
      return {
        db: { ...db.stats, locks: dbLock.acquisitions },
        sync: { ...syncJournal.stats, locks: syncLock.acquisitions },
      };
    },
    close() {
      closing ??= (async () => {
        await jobQueue.stop(10_000);
        sessionsStore?.close();
        clearTimeout(noticeFlush);
        flushNotices();
        await noticesWritten;
        closed = true;
        await Promise.all([db.close(), syncJournal.close()]);
        await records.close();
      })();
      return closing;
    },
  };
}
