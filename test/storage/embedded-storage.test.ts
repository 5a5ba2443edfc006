import { spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { encryptSecret, keyFingerprint } from '../../src/storage/crypto.js';
import {
  createEmbeddedStorage,
  DB_FILE_NAME,
  type EmbeddedStorage,
} from '../../src/storage/embedded/embedded-storage.js';
import {
  DuplicateError,
  NotFoundError,
  type IntegrationRecord,
  type UserRecord,
} from '../../src/storage/types.js';

const key = Buffer.alloc(32, 1);
const otherKey = Buffer.alloc(32, 2);

function integration(consumerKey: string, overrides: Partial<IntegrationRecord> = {}): IntegrationRecord {
  const at = '2025-01-01T00:00:00.000Z';
  return {
    consumerKey,
    storeBaseUrl: 'http://store.test/',
    storeOrigin: 'http://store.test',
    status: 'pending',
    consumerSecret: `consumer-secret-${consumerKey}-zq81`,
    verifier: `verifier-${consumerKey}-k2m9`,
    signatureMethod: 'HMAC-SHA256',
    receivedAt: at,
    callbackCount: 0,
    createdAt: at,
    updatedAt: at,
    events: [{ at, step: 'callback_received', ok: true }],
    history: [],
    ...overrides,
  };
}

const user = (id: string, email = `${id}@example.com`): UserRecord => ({
  id,
  email,
  passwordHash: 'scrypt$x',
  createdAt: '2025-01-01T00:00:00.000Z',
});

interface Doc {
  id: string;
  storeKey: string;
  entity: string;
  n: number;
}

/** Everything a storage holds, as its stores return it. */
async function dump(storage: EmbeddedStorage, sids: string[] = []) {
  return {
    integrations: await storage.integrations.list(),
    users: await storage.users.list(),
    sessions: await Promise.all(sids.map((sid) => storage.sessions.get(sid))),
    jobs: await storage.documents<Doc>('sync_jobs').list(),
    cursors: await storage.documents<Doc>('sync_cursors').list(),
  };
}

/** Every file under `dir` (records included), as text. */
async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const texts = await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map((e) => readFile(path.join(e.parentPath, e.name), 'utf8').catch(() => '')),
  );
  return texts.join('\n');
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 1000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('createEmbeddedStorage', () => {
  let dir: string;
  const opened: EmbeddedStorage[] = [];
  const open = async (
    k = key,
    extra: { compactBytes?: number; dataDir?: string; compactOnClose?: boolean } = {},
  ) => {
    const storage = await createEmbeddedStorage({ dataDir: dir, key: k, ...extra });
    opened.push(storage);
    return storage;
  };
  const dbFile = () => path.join(dir, DB_FILE_NAME);
  const journals = async (name: string) =>
    (await readdir(dir)).filter((f) => f.startsWith(`${name}.`) && f.endsWith('.journal'));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mic-emb-'));
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the data directory and starts empty', async () => {
    const storage = await open(key, { dataDir: path.join(dir, 'a', 'b') });
    expect(await storage.integrations.list()).toEqual([]);
    expect(await storage.users.list()).toEqual([]);
    expect(await readdir(path.join(dir, 'a', 'b'))).toEqual(
      expect.arrayContaining(['db.json', 'db.1.journal', 'sync.json', 'sync.1.journal']),
    );
  });

  it('round-trips every store across close and reopen, with no secret in clear in any file', async () => {
    const storage = await open();
    const record = integration('ck1', { userId: 'u1' });
    await storage.integrations.put(record);
    await storage.integrations.update('ck1', (r) => ({
      ...r,
      status: 'active',
      accessToken: 'access-token-value-p0q7',
      accessTokenSecret: 'access-token-secret-x5v3',
    }));
    await storage.integrations.put(integration('ck2'));
    await storage.integrations.delete('ck2');
    await storage.users.create(user('u1'));
    await storage.users.create(user('u2'));
    await storage.users.update('u2', (u) => ({ ...u, role: 'admin', lastLoginAt: 'now' }));
    await storage.sessions.set('s1', { data: '{"userId":"u1"}', expiresAt: '2099-01-01T00:00:00.000Z' });
    const jobs = storage.documents<Doc>('sync_jobs');
    await jobs.put({ id: 'j1', storeKey: 'ck1', entity: 'products', n: 1 });
    await jobs.update('j1', (d) => ({ ...d!, n: 2 }));
    await jobs.put({ id: 'j2', storeKey: 'ck1', entity: 'orders', n: 1 });
    await jobs.delete('j2');
    await storage
      .documents<Doc>('sync_cursors')
      .update('c1', (d) => d ?? { id: 'c1', storeKey: 'ck1', entity: 'x', n: 0 });
    const before = await dump(storage, ['s1']);
    const secrets = [
      record.consumerSecret,
      record.verifier,
      'access-token-value-p0q7',
      'access-token-secret-x5v3',
    ];

    const text = await allText(dir);
    expect(text).toContain('ck1');
    for (const secret of secrets) expect(text).not.toContain(secret);
    const line = (await readFile(path.join(dir, 'db.1.journal'), 'utf8')).split('\n')[0]!;
    expect(JSON.parse(line).v.consumerSecret).toMatch(/^v2:/);

    await storage.close();
    // A clean close folds the journal into db.json, readable and still without a secret in clear.
    expect(await journals('db')).toEqual(['db.2.journal']);
    // Only the line that says where the snapshot stops in the journal before.
    expect(await readFile(path.join(dir, 'db.2.journal'), 'utf8')).toMatch(/^\{"from":\[1,\d+\]\}\n$/);
    const snapshot = await readFile(dbFile(), 'utf8');
    expect(snapshot).toContain('"email": "u1@example.com"');
    for (const secret of secrets) expect(snapshot).not.toContain(secret);
    expect(JSON.parse(snapshot).collections.integrations).toHaveLength(1);
    const reopened = await open();
    expect(await dump(reopened, ['s1'])).toEqual(before);
    expect(await reopened.integrations.get('ck1')).toMatchObject({
      consumerSecret: record.consumerSecret,
      verifier: record.verifier,
      accessToken: 'access-token-value-p0q7',
      accessTokenSecret: 'access-token-secret-x5v3',
      status: 'active',
    });
    expect(before.integrations.map((r) => r.consumerKey)).toEqual(['ck1']);
    expect(before.users.map((u) => u.role)).toEqual([undefined, 'admin']);
    expect(before.jobs).toEqual([{ id: 'j1', storeKey: 'ck1', entity: 'products', n: 2 }]);
    expect(before.cursors).toHaveLength(1);
  });

  it('refuses at start files written with a different key', async () => {
    const storage = await open();
    await storage.integrations.put(integration('ck1'));
    await storage.close();
    await expect(open(otherKey)).rejects.toThrow(
      /db\.json was encrypted with a different TOKEN_ENCRYPTION_KEY/,
    );
  });

  it('a close folds the journal into db.json only when it is a real part of the data', async () => {
    const first = await open();
    await Promise.all(Array.from({ length: 50 }, (_, i) => first.integrations.put(integration(`ck${i}`))));
    await first.close();
    const snapshot = await readFile(dbFile(), 'utf8');
    expect(JSON.parse(snapshot).collections.integrations).toHaveLength(50);

    // One line beside 50 records: replayed at the next start rather than rewriting everything.
    const cli = await open();
    await cli.users.create(user('u1'));
    await cli.close();
    expect(await readFile(dbFile(), 'utf8')).toBe(snapshot);
    const [journal] = await journals('db');
    expect(await readFile(path.join(dir, journal!), 'utf8')).toContain('"k":"u1"');
    const reopened = await open();
    expect(await reopened.users.getById('u1')).toEqual(user('u1'));
    expect(await reopened.integrations.list()).toHaveLength(50);
  });

  it('reports a modified secret in the journal as such when the key is right', async () => {
    const storage = await open(key, { compactOnClose: false });
    await storage.integrations.put(integration('ck1'));
    await storage.close();
    const file = path.join(dir, 'db.1.journal');
    const line = JSON.parse((await readFile(file, 'utf8')).trim());
    line.v.verifier = encryptSecret('forged', otherKey);
    await writeFile(file, `${JSON.stringify(line)}\n`);
    await expect(open()).rejects.toThrow(/integration ck1 cannot be decrypted \(the file was modified\)/);
  });

  it('refuses a db.json that is not JSON, naming the file', async () => {
    await writeFile(dbFile(), '{ not json');
    await expect(open()).rejects.toThrow(/Could not read .*db\.json/);
  });

  it('refuses a db.json of another shape or version, and leaves it alone', async () => {
    for (const text of ['[]', '{"integrations": {}}', '{"version": 2}', '{"version": 3}']) {
      await writeFile(dbFile(), text);
      await expect(open()).rejects.toThrow(/does not look like a connector database/);
      expect(await readFile(dbFile(), 'utf8')).toBe(text);
    }
    expect((await readdir(dir)).filter((f) => f.includes('migrated'))).toEqual([]);
  });

  it('refuses to start empty over a journal whose snapshot is missing', async () => {
    const storage = await open(key, { compactOnClose: false });
    await storage.users.create(user('u1'));
    await storage.close();
    await rm(dbFile());
    await expect(open()).rejects.toThrow(/db\.1\.journal exists but .*db\.json does not/);
  });

  it('loses no update among 50 concurrent ones', async () => {
    const storage = await open();
    await storage.integrations.put(integration('ck1'));
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        storage.integrations.update('ck1', (r) => ({ ...r, callbackCount: r.callbackCount + 1 })),
      ),
    );
    expect(results.map((r) => r.callbackCount).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    await storage.close();
    expect((await (await open()).integrations.get('ck1'))?.callbackCount).toBe(50);
  });

  it('group commit: 200 concurrent puts take a handful of writes and fsyncs, and all are kept', async () => {
    const storage = await open();
    await Promise.all(Array.from({ length: 200 }, (_, i) => storage.integrations.put(integration(`ck${i}`))));
    const { db } = storage.journalStats();
    expect(db.syncs).toBeLessThan(10);
    expect(db.writes).toBeLessThan(10);
    expect(db.locks).toBeLessThan(12);
    await storage.close();
    const keys = (await (await open()).integrations.list()).map((r) => r.consumerKey).sort();
    expect(keys).toEqual(Array.from({ length: 200 }, (_, i) => `ck${i}`).sort());
  });

  it('close() waits for writes still queued; later ones are refused', async () => {
    const storage = await open();
    const pending = Array.from({ length: 10 }, (_, i) => storage.integrations.put(integration(`ck${i}`)));
    await storage.close();
    await Promise.all(pending);
    await expect(storage.integrations.put(integration('late'))).rejects.toThrow('Storage is closed.');
    await expect(storage.notices.publish('x')).rejects.toThrow('Storage is closed.');
    expect(await (await open()).integrations.list()).toHaveLength(10);
  });

  it('update(): NotFoundError when missing; a throw or a key change stores nothing; undefined leaves it', async () => {
    const storage = await open();
    await expect(storage.integrations.update('nope', (r) => r)).rejects.toBeInstanceOf(NotFoundError);
    await storage.integrations.put(integration('ck1'));
    await expect(
      storage.integrations.update('ck1', () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    await expect(storage.integrations.update('ck1', (r) => ({ ...r, consumerKey: 'other' }))).rejects.toThrow(
      /consumer key/,
    );
    const batches = storage.journalStats().db.batches;
    expect(await storage.integrations.update('ck1', () => undefined)).toEqual(integration('ck1'));
    expect(await storage.integrations.update('ck1', (r) => r)).toEqual(integration('ck1'));
    expect(storage.journalStats().db.batches).toBe(batches);
    expect(await storage.integrations.list()).toEqual([integration('ck1')]);
  });

  it('create() refuses an existing key; put() replaces; a failing operation spares its batch', async () => {
    const storage = await open();
    await storage.integrations.create(integration('ck1'));
    const [dup, other] = await Promise.allSettled([
      storage.integrations.create(integration('ck1', { status: 'failed' })),
      storage.integrations.create(integration('ck2')),
    ]);
    expect(dup.status === 'rejected' && dup.reason).toBeInstanceOf(DuplicateError);
    expect(other.status).toBe('fulfilled');
    await storage.integrations.put(integration('ck1', { status: 'failed', statusReason: 'token_rejected' }));
    expect(await storage.integrations.list()).toHaveLength(2);
    expect((await storage.integrations.get('ck1'))?.status).toBe('failed');
    expect(await storage.integrations.delete('ck1')).toBe(true);
    expect(await storage.integrations.delete('ck1')).toBe(false);
  });

  it('list() filters by statuses and user, newest first; listByStore() one store', async () => {
    const storage = await open();
    await storage.integrations.put(
      integration('old', { createdAt: '2025-01-01T00:00:00.000Z', userId: 'u1' }),
    );
    await storage.integrations.put(
      integration('new', { createdAt: '2025-03-01T00:00:00.000Z', status: 'active', userId: 'u1' }),
    );
    await storage.integrations.put(
      integration('mid', { createdAt: '2025-02-01T00:00:00.000Z', userId: 'u2' }),
    );
    await storage.integrations.put(integration('elsewhere', { storeBaseUrl: 'http://other.test/' }));
    const keys = (rs: IntegrationRecord[]) => rs.map((r) => r.consumerKey);
    expect(keys(await storage.integrations.listByStore('http://store.test/'))).toEqual(['new', 'mid', 'old']);
    expect(keys(await storage.integrations.list({ userId: 'u1' }))).toEqual(['new', 'old']);
    expect(keys(await storage.integrations.list({ statuses: ['pending'], userId: 'u1' }))).toEqual(['old']);
    expect(keys(await storage.integrations.list({ statuses: ['active', 'failed'] }))).toEqual(['new']);
  });

  it('hands out copies: changing them changes nothing stored', async () => {
    const storage = await open();
    const input = integration('ck1');
    await storage.integrations.put(input);
    input.status = 'active';
    input.events.push({ at: 'x', step: 'reset', ok: false });
    const got = await storage.integrations.get('ck1');
    got!.status = 'failed';
    got!.events.length = 0;
    const [listed] = await storage.integrations.list();
    listed!.consumerSecret = 'changed';
    const updated = await storage.integrations.update('ck1', (r) => ({ ...r, callbackCount: 1 }));
    updated.history.push({ consumerKey: 'x', reason: 'reset', receivedAt: 'x', replacedAt: 'x' });
    expect(await storage.integrations.get('ck1')).toEqual({ ...integration('ck1'), callbackCount: 1 });

    await storage.users.create(user('u1', 'a@b.co'));
    const u = await storage.users.getById('u1');
    u!.email = 'changed@b.co';
    expect((await storage.users.getById('u1'))?.email).toBe('a@b.co');
    const docs = storage.documents<Doc>('alerts');
    await docs.put({ id: 'a1', storeKey: 'k', entity: 'e', n: 1 });
    (await docs.get('a1'))!.n = 5;
    expect((await docs.get('a1'))?.n).toBe(1);
  });

  it('users: by id and by email ignoring case; duplicates refused; update keeps id and email', async () => {
    const storage = await open();
    const ann = user('u1', 'Ann@Example.com');
    await storage.users.create(ann);
    expect(await storage.users.getById('u1')).toEqual(ann);
    expect(await storage.users.getByEmail('ann@example.COM')).toEqual(ann);
    expect(await storage.users.getByEmail('bob@example.com')).toBeUndefined();
    await expect(storage.users.create({ ...ann, id: 'u2', email: 'ANN@example.com' })).rejects.toBeInstanceOf(
      DuplicateError,
    );
    await expect(storage.users.create({ ...ann, email: 'other@example.com' })).rejects.toBeInstanceOf(
      DuplicateError,
    );
    const changed = await storage.users.update('u1', (u) => ({
      ...u,
      id: 'x',
      email: 'x@y.z',
      role: 'admin',
    }));
    expect(changed).toMatchObject({ id: 'u1', email: 'Ann@Example.com', role: 'admin' });
    await expect(storage.users.update('nope', (u) => u)).rejects.toBeInstanceOf(NotFoundError);
    expect(await storage.users.delete('u1')).toBe(true);
    expect(await storage.users.delete('u1')).toBe(false);
  });

  it('users: concurrent creates with one email leave exactly one user', async () => {
    const storage = await open();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => storage.users.create(user(`u${i}`, 'same@example.com'))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await storage.users.list()).toHaveLength(1);
  });

  it('sessions: set, get, destroy, and prune of expired ones', async () => {
    const storage = await open();
    const now = new Date('2025-06-01T12:00:00.000Z');
    await storage.sessions.set('live', { data: '{"a":1}', expiresAt: '2025-06-02T00:00:00.000Z' });
    await storage.sessions.set('old', { data: '{}', expiresAt: '2025-06-01T11:59:59.000Z' });
    await storage.sessions.set('gone', { data: '{}', expiresAt: '2025-06-02T00:00:00.000Z' });
    await storage.sessions.destroy('gone');
    await storage.sessions.destroy('never-existed');
    expect(await storage.sessions.get('gone')).toBeUndefined();
    expect(await storage.sessions.prune(now)).toBe(1);
    expect(await storage.sessions.prune(now)).toBe(0);
    await storage.close();
    const reopened = await open();
    expect(await reopened.sessions.get('live')).toEqual({
      data: '{"a":1}',
      expiresAt: '2025-06-02T00:00:00.000Z',
    });
    expect(await reopened.sessions.get('old')).toBeUndefined();
  });

  it('documents: equality filters on string fields; update sees undefined for a missing one', async () => {
    const storage = await open();
    const docs = storage.documents<Doc>('sync_runs');
    await docs.put({ id: 'r1', storeKey: 'a', entity: 'products', n: 1 });
    await docs.put({ id: 'r2', storeKey: 'a', entity: 'orders', n: 1 });
    await docs.put({ id: 'r3', storeKey: 'b', entity: 'products', n: 1 });
    const ids = (list: Doc[]) => list.map((d) => d.id).sort();
    expect(ids(await docs.list({ storeKey: 'a' }))).toEqual(['r1', 'r2']);
    expect(ids(await docs.list({ storeKey: 'a', entity: 'products' }))).toEqual(['r1']);
    expect(ids(await docs.list())).toEqual(['r1', 'r2', 'r3']);
    let seen: Doc | undefined | null = null;
    await docs.update('r9', (cur) => {
      seen = cur;
      return { id: 'r9', storeKey: 'c', entity: 'x', n: 0 };
    });
    expect(seen).toBeUndefined();
    await expect(docs.update('r9', (cur) => ({ ...cur!, id: 'r10' }))).rejects.toThrow(/document id/);
    await docs.delete('r9');
    expect(await docs.get('r9')).toBeUndefined();
    // Sync documents go to their own journal.
    expect(storage.journalStats().sync.batches).toBeGreaterThan(0);
    expect(storage.journalStats().db.batches).toBe(0);
  });

  it('ignores a torn last line (kill -9 mid-append), keeps what was acknowledged before it, cuts it away', async () => {
    // Closed without folding the journal into the snapshot, as a killed process leaves it.
    const storage = await open(key, { compactOnClose: false });
    await storage.integrations.put(integration('ck1'));
    await storage.users.create(user('u1'));
    await storage.close();
    const file = path.join(dir, 'db.1.journal');
    const { size } = await stat(file);
    await appendFile(file, '{"c":"users","k":"u2","v":{"id":"u2","email":"torn@exa');

    const reopened = await open();
    expect(await reopened.integrations.get('ck1')).toEqual(integration('ck1'));
    expect((await reopened.users.list()).map((u) => u.id)).toEqual(['u1']);
    expect((await stat(file)).size).toBe(size);
    await reopened.users.create(user('u3'));
    await reopened.close();
    const last = await open();
    expect((await last.users.list()).map((u) => u.id)).toEqual(['u1', 'u3']);
  });

  it('refuses a damaged line in the middle of a journal', async () => {
    const storage = await open(key, { compactOnClose: false });
    await storage.users.create(user('u1'));
    await storage.close();
    const file = path.join(dir, 'db.1.journal');
    await writeFile(file, `garbage\n${await readFile(file, 'utf8')}`);
    await expect(open()).rejects.toThrow(/db\.1\.journal is damaged/);
  });

  it('compaction keeps everything, drops superseded lines, and the reopened state is identical', async () => {
    const storage = await open(key, { compactBytes: 8 * 1024 });
    const other = await open(key);
    const docs = storage.documents<Doc>('sync_jobs');
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          storage.integrations.put(
            integration(`ck${i}`, { callbackCount: round, accessToken: `tok-${i}-${round}` }),
          ),
        ),
      );
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => docs.put({ id: `d${i}`, storeKey: 's', entity: 'e', n: round })),
      );
      await storage.sessions.set(`s${round}`, {
        data: `{"r":${round}}`,
        expiresAt: '2099-01-01T00:00:00.000Z',
      });
      await storage.users.create(user(`u${round}`));
      // The other instance writes too, while snapshots are being written without the lock.
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          other.integrations.put(integration(`other${i}`, { callbackCount: round })),
        ),
      );
    }
    await storage.integrations.delete('ck0');
    await docs.delete('d0');
    // Let a compaction still writing its snapshot finish (the next batch commits it).
    await new Promise((resolve) => setTimeout(resolve, 100));
    await storage.sessions.set('s0', { data: '{"r":0}', expiresAt: '2099-01-01T00:00:00.000Z' });
    const stats = storage.journalStats();
    expect(stats.db.compactions).toBeGreaterThan(0);
    expect(stats.sync.compactions).toBeGreaterThan(0);
    const sids = ['s0', 's1', 's2', 's3', 's4'];
    const before = await dump(storage, sids);
    expect(before.integrations).toHaveLength(39);
    expect(before.integrations.find((r) => r.consumerKey === 'other3')?.callbackCount).toBe(4);
    expect(before.jobs).toHaveLength(29);
    // The other instance follows the compactions.
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await dump(other, sids)).toEqual(before);
    expect(other.journalStats().db.follows).toBeGreaterThan(0);

    await storage.close();
    await other.close();
    // One journal per name remains (older generations were deleted), and no temp file.
    expect(await journals('db')).toHaveLength(1);
    expect(await journals('sync')).toHaveLength(1);
    expect(await journals('db')).not.toEqual(['db.1.journal']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await dump(await open(), sids)).toEqual(before);
  });

  it('two instances on one folder see each other’s writes; one email is created once', async () => {
    const a = await open();
    const b = await open();
    await a.users.create(user('ua', 'ann@example.com'));
    const seen = await eventually(
      () => b.users.getByEmail('ANN@example.com'),
      (u) => u !== undefined,
    );
    expect(seen?.id).toBe('ua');

    const results = await Promise.allSettled([
      a.users.create(user('x1', 'same@example.com')),
      b.users.create(user('x2', 'same@example.com')),
      a.users.create(user('x3', 'Same@Example.com')),
      b.users.create(user('x4', 'same@example.com ')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason),
    ).toEqual([expect.any(DuplicateError), expect.any(DuplicateError), expect.any(DuplicateError)]);

    // Read-modify-write from both sides loses nothing.
    await a.integrations.put(integration('ck1'));
    const bump = (s: EmbeddedStorage) =>
      s.integrations.update('ck1', (r) => ({ ...r, callbackCount: r.callbackCount + 1 }));
    await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? a : b)));
    // Each instance sees the other's last writes once it catches up (at its next write, or within 1 s).
    expect(
      (
        await eventually(
          () => a.integrations.get('ck1'),
          (r) => r?.callbackCount === 20,
        )
      )?.callbackCount,
    ).toBe(20);
    expect(
      (
        await eventually(
          () => b.integrations.get('ck1'),
          (r) => r?.callbackCount === 20,
        )
      )?.callbackCount,
    ).toBe(20);
  });

  it('follows another instance’s compactions by reading on in the new journal', async () => {
    const server = await open();
    const cli = await open();
    await cli.users.create(user('u1'));
    await cli.close();
    // The close folded the journal into db.json; the server read on in the new generation.
    expect(await journals('db')).toEqual(['db.2.journal']);
    expect(
      await eventually(
        () => server.users.getById('u1'),
        (u) => u !== undefined,
      ),
    ).toEqual(user('u1'));
    expect(server.journalStats().db).toMatchObject({ follows: 1, reloads: 0 });

    const busy = await open(key, { compactBytes: 2048 });
    for (let round = 0; round < 12; round++) {
      await Promise.all(
        Array.from({ length: 5 }, (_, i) => busy.integrations.put(integration(`ck${round}-${i}`))),
      );
      // Requests arrive over time: the snapshot a compaction writes in the background gets its turns.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(busy.journalStats().db.compactions).toBeGreaterThan(1);
    // The server follows each compaction as it sees it, or reloads when it missed one.
    const listed = await eventually(
      () => server.integrations.list(),
      (l) => l.length === 60,
    );
    expect(listed).toHaveLength(60);
    expect(server.journalStats().db.follows + server.journalStats().db.reloads).toBeGreaterThan(1);
    expect(await server.users.getById('u1')).toEqual(user('u1'));

    // Sync documents are read only when asked for: by then the server missed several generations.
    const docs = busy.documents<Doc>('sync_runs');
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        Array.from({ length: 5 }, (_, i) => docs.put({ id: `r${i}`, storeKey: 's', entity: 'e', n: round })),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(busy.journalStats().sync.compactions).toBeGreaterThan(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const runs = await server.documents<Doc>('sync_runs').list();
    expect(runs.map((d) => d.n)).toEqual([39, 39, 39, 39, 39]);
    expect(server.journalStats().sync).toMatchObject({ reloads: 1, follows: 0 });
  });

  it('change notices reach subscribers here at once and in the other instance', async () => {
    const a = await open();
    const b = await open();
    const heard: string[] = [];
    a.notices.subscribe('integration:ck1', () => heard.push('a'));
    const inB = new Promise<void>((resolve) => b.notices.subscribe('integration:ck1', () => resolve()));
    const unsubscribe = b.notices.subscribe('integration:other', () => heard.push('wrong topic'));
    const publishing = a.notices.publish('integration:ck1');
    expect(heard).toEqual(['a']);
    await publishing;
    await inB;
    unsubscribe();
    expect(heard).toEqual(['a']);
    // A notice alone is not worth an fsync.
    expect(a.journalStats().db.syncs).toBe(0);
  });

  it('takes over a lock left by a killed process', async () => {
    await mkdir(path.join(dir, 'db.lock'));
    const old = new Date(Date.now() - 60_000);
    await utimes(path.join(dir, 'db.lock'), old, old);
    const storage = await open();
    await storage.users.create(user('u1'));
    expect(await storage.users.list()).toHaveLength(1);
  });

  it('another OS process writing beside this one loses nothing, nor does this one', async () => {
    const storage = await open();
    await storage.users.create(user('before'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/storage/fixtures/embedded-writer.ts', dir, key.toString('hex'), 'cli', '40'],
      { env: { ...process.env, NODE_OPTIONS: '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

    // Write here until the child is done, so the two interleave.
    let mine = 0;
    let sharedHere = false;
    let running = true;
    void exited.then(() => (running = false));
    while (running || mine < 40) {
      await Promise.all([
        storage.users.create(user(`srv-${mine}`)),
        storage.integrations.put(integration(`ck-${mine}`)),
      ]);
      mine++;
      if (mine === 20) {
        sharedHere = await storage.users.create(user('srv-shared', 'shared@example.com')).then(
          () => true,
          () => false,
        );
      }
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    const summary = JSON.parse(stdout) as { created: number; shared: boolean };
    expect(summary.shared !== sharedHere).toBe(true);

    const ids = new Set(
      (
        await eventually(
          () => storage.users.list(),
          (l) => l.length >= 82,
        )
      ).map((u) => u.id),
    );
    for (let i = 0; i < 40; i++) expect(ids.has(`cli-${i}`)).toBe(true);
    for (let i = 0; i < mine; i++) expect(ids.has(`srv-${i}`)).toBe(true);
    expect(ids.size).toBe(1 + 40 + mine + 1);
    await storage.close();
    const reopened = await open();
    expect((await reopened.users.list()).map((u) => u.id).sort()).toEqual([...ids].sort());
    expect(await reopened.integrations.list()).toHaveLength(mine);
  }, 60_000);

  it('after kill -9 of a writing process, starts and keeps everything it acknowledged', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/storage/fixtures/embedded-writer.ts',
        dir,
        key.toString('hex'),
        'k',
        'forever',
      ],
      { env: { ...process.env, NODE_OPTIONS: '' } },
    );
    const acked: string[] = [];
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('close', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve) => {
      let buffered = '';
      child.stdout.on('data', (c: Buffer) => {
        buffered += c.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('ack ')) acked.push(line.slice(4));
        if (acked.length >= 50) resolve();
      });
      void exited.then(() => resolve());
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(stderr).toBe('');
    expect(acked.length).toBeGreaterThanOrEqual(50);

    // It may have died holding the lock: opening waits for the lock to go stale, then takes it over.
    const storage = await open();
    const ids = new Set((await storage.users.list()).map((u) => u.id));
    for (const id of acked) expect(ids.has(id)).toBe(true);
    const journal = await readFile(path.join(dir, (await journals('db'))[0]!), 'utf8');
    expect(journal === '' || journal.endsWith('\n')).toBe(true);
    await storage.users.create(user('after'));
  }, 60_000);

  it('imports a version 1 db.json and keeps the original beside it', async () => {
    const plain = integration('ck1', {
      status: 'active',
      accessToken: 'at-9f2',
      accessTokenSecret: 'ats-3k1',
    });
    const stored = {
      ...plain,
      consumerSecret: encryptSecret(plain.consumerSecret!, key),
      verifier: encryptSecret(plain.verifier!, key),
      accessToken: encryptSecret('at-9f2', key),
      accessTokenSecret: encryptSecret('ats-3k1', key),
    };
    const v1 = {
      version: 1,
      keyId: keyFingerprint(key),
      integrations: [stored, { ...stored, consumerKey: 'ck2', createdAt: '2025-02-01T00:00:00.000Z' }],
      users: [user('10'), user('2'), user('u1')],
      sessions: { s1: { data: '{}', expiresAt: '2099-01-01T00:00:00.000Z' } },
      documents: {
        sync_jobs: [{ id: 'j1', storeKey: 'ck1', entity: 'products', n: 1 }],
        alerts: [{ id: 'a1', storeKey: 'ck1', entity: 'x', n: 2 }],
      },
    };
    const original = JSON.stringify(v1, null, 2);
    await writeFile(dbFile(), original);

    const storage = await open();
    expect(await storage.integrations.get('ck1')).toEqual(plain);
    expect((await storage.integrations.list()).map((r) => r.consumerKey)).toEqual(['ck2', 'ck1']);
    // In the order they were in the file (integer-like ids included).
    expect((await storage.users.list()).map((u) => u.id)).toEqual(['10', '2', 'u1']);
    expect(await storage.sessions.get('s1')).toEqual(v1.sessions.s1);
    expect(await storage.documents('sync_jobs').list()).toEqual(v1.documents.sync_jobs);
    expect(await storage.documents('alerts').get('a1')).toEqual(v1.documents.alerts[0]);

    const migrated = (await readdir(dir)).filter((f) => f.startsWith('db.json.migrated-'));
    expect(migrated).toHaveLength(1);
    expect(await readFile(path.join(dir, migrated[0]!), 'utf8')).toBe(original);
    expect(JSON.parse(await readFile(dbFile(), 'utf8'))).toMatchObject({ version: 2, journal: 'db' });
    await storage.users.create(user('u9'));
    await storage.close();

    // Imported once: a reopen reads the new files.
    const reopened = await open();
    expect((await reopened.users.list()).map((u) => u.id)).toEqual(['10', '2', 'u1', 'u9']);
    expect(await reopened.documents('sync_jobs').list()).toEqual(v1.documents.sync_jobs);
    expect((await readdir(dir)).filter((f) => f.startsWith('db.json.migrated-'))).toHaveLength(1);
  });

  it('names the different key for a version 1 file without a key fingerprint, and keeps it', async () => {
    const stored = { ...integration('ck1'), consumerSecret: encryptSecret('s', otherKey) };
    stored.verifier = encryptSecret('v', otherKey);
    await writeFile(dbFile(), JSON.stringify({ integrations: [stored] }));
    await expect(open()).rejects.toThrow(/different TOKEN_ENCRYPTION_KEY/);
    expect(JSON.parse(await readFile(dbFile(), 'utf8')).integrations).toHaveLength(1);
  });

  it('reports a modified secret in a version 1 file with the right key fingerprint', async () => {
    const stored = { ...integration('ck1'), consumerSecret: encryptSecret('s', key) };
    stored.verifier = encryptSecret('forged', otherKey);
    await writeFile(
      dbFile(),
      JSON.stringify({ version: 1, keyId: keyFingerprint(key), integrations: [stored] }),
    );
    await expect(open()).rejects.toThrow(/integration ck1 cannot be decrypted \(the file was modified\)/);
  });
});
