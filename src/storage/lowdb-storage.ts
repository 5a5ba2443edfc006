import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { createDocumentJobQueue, type QueuedJobDocument } from './document-job-queue.js';
import { createFileRecordStore } from './file-record-store.js';
import { PersistentSessionStore } from './session-store.js';
import { decryptSecret, DecryptionError, encryptSecret, keyFingerprint } from './crypto.js';
import {
  type DocumentCollection,
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
} from './types.js';

export const DB_FILE_NAME = 'db.json';

/** An integration as written to disk: the same fields, secrets replaced by `encryptSecret` output. */
type StoredIntegration = IntegrationRecord;

interface DbFile {
  version: 1;
  /** Fingerprint of the key the secrets were encrypted with (see keyFingerprint). */
  keyId?: string;
  integrations: StoredIntegration[];
  users: UserRecord[];
  sessions: Record<string, SessionEntry>;
  /** Sync jobs, run log, cursors and alerts: no secrets. */
  documents?: Record<string, { id: string }[]>;
}

const SECRET_FIELDS = INTEGRATION_SECRET_FIELDS;

function mapSecrets(record: IntegrationRecord, fn: (value: string) => string): IntegrationRecord {
  const out = { ...record };
  for (const field of SECRET_FIELDS) {
    const value = record[field];
    if (value !== undefined) out[field] = fn(value);
  }
  return out;
}

/** Runs tasks one at a time, in call order; a failed task does not stop the ones after it. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

const copy = <T>(value: T): T => structuredClone(value);
const normaliseEmail = (email: string) => email.trim().toLowerCase();

function readShape(data: unknown, file: string): DbFile {
  const d = (data ?? {}) as Partial<DbFile>;
  const ok =
    typeof d === 'object' &&
    !Array.isArray(d) &&
    (d.version === undefined || d.version === 1) &&
    (d.integrations === undefined || Array.isArray(d.integrations)) &&
    (d.users === undefined || Array.isArray(d.users)) &&
    (d.sessions === undefined || (typeof d.sessions === 'object' && d.sessions !== null));
  if (!ok) throw new Error(`${file} does not look like a connector database (unexpected structure).`);
  return {
    version: 1,
    ...(d.keyId === undefined ? {} : { keyId: d.keyId }),
    integrations: d.integrations ?? [],
    users: d.users ?? [],
    sessions: d.sessions ?? {},
  };
}

/**
 * The default storage: one JSON file under DATA_DIR, held in memory and rewritten (atomically, by lowdb)
 * after every change. Changes are serialised within this instance; it is not safe for several processes
 * sharing one file.
 */
export async function createLowdbStorage(options: {
  dataDir: string;
  key: Buffer;
}): Promise<Storage & { sessions: SessionStoreBackend }> {
  const { key } = options;
  // 0700 when we create it: db.json holds password hashes and session ids.
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dataDir, DB_FILE_NAME);
  const db = new Low<DbFile>(new JSONFile<DbFile>(file), {
    version: 1,
    integrations: [],
    users: [],
    sessions: {},
  });
  try {
    await db.read();
  } catch (error) {
    throw new Error(`Could not read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const loaded = readShape(db.data, file);
  const fingerprint = keyFingerprint(key);
  const differentKey = (cause?: unknown) =>
    new Error(
      `${file} was encrypted with a different TOKEN_ENCRYPTION_KEY; set the key it was written with.`,
      { cause },
    );
  if (loaded.keyId !== undefined && loaded.keyId !== fingerprint) throw differentKey();

  // Decrypted records in memory, encrypted ones kept ready for writing so unchanged secrets are not
  // re-encrypted on every write.
  const integrations = new Map<string, IntegrationRecord>();
  const encrypted = new Map<string, StoredIntegration>();
  for (const stored of loaded.integrations) {
    try {
      integrations.set(
        stored.consumerKey,
        mapSecrets(stored, (v) => decryptSecret(v, key)),
      );
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      if (loaded.keyId === undefined) throw differentKey(error);
      throw new Error(
        `${file}: the secrets of integration ${stored.consumerKey} cannot be decrypted (the file was modified).`,
        { cause: error },
      );
    }
    encrypted.set(stored.consumerKey, stored);
  }
  const users: UserRecord[] = loaded.users;
  const sessions = new Map<string, SessionEntry>(Object.entries(loaded.sessions));
  const documents = new Map<string, Map<string, { id: string }>>(
    Object.entries((db.data as DbFile).documents ?? {}).map(([name, docs]) => [
      name,
      new Map(docs.map((d) => [d.id, d])),
    ]),
  );

  const queue = new SerialQueue();
  let closed = false;

  async function flush(): Promise<void> {
    db.data = {
      version: 1,
      keyId: fingerprint,
      integrations: [...encrypted.values()],
      users,
      sessions: Object.fromEntries(sessions),
      documents: Object.fromEntries([...documents].map(([name, docs]) => [name, [...docs.values()]])),
    };
    await db.write();
  }

  /** `apply` changes memory and returns how to undo it, used when the file write fails. */
  function mutate<T>(
    apply: () => { result: T; undo: () => void } | { result: T; unchanged: true },
  ): Promise<T> {
    // Checked on entry, so writes queued before close() still complete.
    if (closed) return Promise.reject(new Error('Storage is closed.'));
    return queue.run(async () => {
      const outcome = apply();
      if ('unchanged' in outcome) return outcome.result;
      try {
        await flush();
      } catch (error) {
        outcome.undo();
        throw error;
      }
      return outcome.result;
    });
  }

  function setIntegration(record: IntegrationRecord): () => void {
    const k = record.consumerKey;
    const before = integrations.get(k);
    const beforeEncrypted = encrypted.get(k);
    integrations.set(k, record);
    encrypted.set(
      k,
      mapSecrets(record, (v) => encryptSecret(v, key)),
    );
    return () => {
      if (before && beforeEncrypted) {
        integrations.set(k, before);
        encrypted.set(k, beforeEncrypted);
      } else {
        integrations.delete(k);
        encrypted.delete(k);
      }
    };
  }

  const integrationStore: IntegrationStore = {
    async get(consumerKey) {
      const record = integrations.get(consumerKey);
      return record && copy(record);
    },
    async list(filter = {}) {
      return [...integrations.values()]
        .filter((r) => !filter.statuses || filter.statuses.includes(r.status))
        .filter((r) => filter.userId === undefined || r.userId === filter.userId)
        .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
        .map(copy);
    },
    async listByStore(storeBaseUrl) {
      return [...integrations.values()]
        .filter((r) => r.storeBaseUrl === storeBaseUrl)
        .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
        .map(copy);
    },
    put(record) {
      const stored = copy(record);
      return mutate(() => ({ result: undefined, undo: setIntegration(stored) }));
    },
    create(record) {
      const stored = copy(record);
      return mutate(() => {
        if (integrations.has(stored.consumerKey)) {
          throw new DuplicateError(`An integration with consumer key ${stored.consumerKey} exists.`);
        }
        return { result: undefined, undo: setIntegration(stored) };
      });
    },
    update(consumerKey, change) {
      return mutate(() => {
        const current = integrations.get(consumerKey);
        if (!current) throw new NotFoundError(`No integration with consumer key ${consumerKey}.`);
        const changed = change(copy(current));
        if (changed === undefined) return { result: copy(current), unchanged: true };
        const next = copy(changed);
        if (next.consumerKey !== consumerKey) {
          throw new Error('An update cannot change the consumer key; put a new record instead.');
        }
        return { result: copy(next), undo: setIntegration(next) };
      });
    },
    delete(consumerKey) {
      return mutate(() => {
        const before = integrations.get(consumerKey);
        const beforeEncrypted = encrypted.get(consumerKey);
        if (!before || !beforeEncrypted) return { result: false, unchanged: true };
        integrations.delete(consumerKey);
        encrypted.delete(consumerKey);
        return {
          result: true,
          undo: () => {
            integrations.set(consumerKey, before);
            encrypted.set(consumerKey, beforeEncrypted);
          },
        };
      });
    },
  };

  const userStore: UserStore = {
    async getById(id) {
      const user = users.find((u) => u.id === id);
      return user && copy(user);
    },
    async getByEmail(email) {
      const wanted = normaliseEmail(email);
      const user = users.find((u) => normaliseEmail(u.email) === wanted);
      return user && copy(user);
    },
    async list() {
      return users.map(copy);
    },
    create(user) {
      const stored = copy(user);
      return mutate(() => {
        const email = normaliseEmail(stored.email);
        if (users.some((u) => normaliseEmail(u.email) === email)) {
          throw new DuplicateError(`A user with the email ${stored.email} already exists.`);
        }
        if (users.some((u) => u.id === stored.id)) {
          throw new DuplicateError(`A user with the id ${stored.id} already exists.`);
        }
        users.push(stored);
        return { result: undefined, undo: () => void users.splice(users.indexOf(stored), 1) };
      });
    },
    update(id, change) {
      return mutate(() => {
        const index = users.findIndex((u) => u.id === id);
        const before = users[index];
        if (!before) throw new NotFoundError(`No user with id ${id}.`);
        const next = { ...copy(change(copy(before))), id: before.id, email: before.email };
        users[index] = next;
        return { result: copy(next), undo: () => void (users[index] = before) };
      });
    },
    delete(id) {
      return mutate(() => {
        const index = users.findIndex((u) => u.id === id);
        const before = users[index];
        if (!before) return { result: false, unchanged: true };
        users.splice(index, 1);
        return { result: true, undo: () => void users.splice(index, 0, before) };
      });
    },
  };

  const sessionStore: SessionStoreBackend = {
    async get(sid) {
      const entry = sessions.get(sid);
      return entry && copy(entry);
    },
    set(sid, entry) {
      const stored = copy(entry);
      return mutate(() => {
        const before = sessions.get(sid);
        sessions.set(sid, stored);
        return {
          result: undefined,
          undo: () => (before ? sessions.set(sid, before) : sessions.delete(sid)),
        };
      });
    },
    destroy(sid) {
      return mutate(() => {
        const before = sessions.get(sid);
        if (!before) return { result: undefined, unchanged: true };
        sessions.delete(sid);
        return { result: undefined, undo: () => sessions.set(sid, before) };
      });
    },
    prune(now) {
      return mutate(() => {
        const expired = [...sessions].filter(([, e]) => !(Date.parse(e.expiresAt) > now.getTime()));
        if (expired.length === 0) return { result: 0, unchanged: true };
        for (const [sid] of expired) sessions.delete(sid);
        return { result: expired.length, undo: () => expired.forEach(([sid, e]) => sessions.set(sid, e)) };
      });
    },
  };

  function documentStore<T extends { id: string }>(name: DocumentCollection): DocumentStore<T> {
    let docs = documents.get(name) as Map<string, T> | undefined;
    if (!docs) {
      docs = new Map<string, T>();
      documents.set(name, docs);
    }
    const map = docs;
    const set = (doc: T) => {
      const before = map.get(doc.id);
      map.set(doc.id, doc);
      return () => (before ? map.set(doc.id, before) : map.delete(doc.id));
    };
    return {
      async get(id) {
        const doc = map.get(id);
        return doc && structuredClone(doc);
      },
      async list(filter) {
        const wanted = Object.entries(filter ?? {});
        return [...map.values()]
          .filter((d) => wanted.every(([k, v]) => (d as Record<string, unknown>)[k] === v))
          .map((d) => structuredClone(d));
      },
      put(doc) {
        const stored = structuredClone(doc);
        return mutate(() => ({ result: undefined, undo: set(stored) }));
      },
      update(id, change) {
        return mutate(() => {
          const current = map.get(id);
          const next = structuredClone(change(current && structuredClone(current)));
          if (next.id !== id) throw new Error('An update cannot change the document id.');
          return { result: structuredClone(next), undo: set(next) };
        });
      },
      delete(id) {
        return mutate(() => {
          const before = map.get(id);
          if (!before) return { result: undefined, unchanged: true };
          map.delete(id);
          return { result: undefined, undo: () => map.set(id, before) };
        });
      },
    };
  }

  const changes = new EventEmitter().setMaxListeners(0);
  const records = createFileRecordStore(path.join(options.dataDir, 'records'));
  const jobQueue = createDocumentJobQueue({ jobs: documentStore<QueuedJobDocument>('queue_jobs') });
  let sessionsStore: PersistentSessionStore | undefined;
  return {
    kind: 'embedded',
    integrations: integrationStore,
    documents: documentStore,
    users: userStore,
    sessions: sessionStore,
    sessionStore() {
      sessionsStore ??= new PersistentSessionStore(sessionStore);
      return sessionsStore;
    },
    records,
    queue: jobQueue,
    notices: {
      async publish(topic) {
        changes.emit(topic);
      },
      subscribe(topic, listener) {
        changes.on(topic, listener);
        return () => changes.off(topic, listener);
      },
    },
    async ping() {
      if (closed) throw new Error('Storage is closed.');
    },
    async close() {
      await jobQueue.stop(10_000);
      sessionsStore?.close();
      closed = true;
      await queue.idle();
      await records.close();
    },
  };
}
