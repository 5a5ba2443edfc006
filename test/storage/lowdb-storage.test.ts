import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { encryptSecret } from '../../src/storage/crypto.js';
import { createLowdbStorage, DB_FILE_NAME } from '../../src/storage/lowdb-storage.js';
import {
  DuplicateError,
  NotFoundError,
  type IntegrationRecord,
  type Storage,
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

describe('createLowdbStorage', () => {
  let dir: string;
  const opened: Storage[] = [];
  const open = async (k = key) => {
    const storage = await createLowdbStorage({ dataDir: dir, key: k });
    opened.push(storage);
    return storage;
  };
  const dbText = () => readFile(path.join(dir, DB_FILE_NAME), 'utf8');

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mic-db-'));
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the data directory and starts empty', async () => {
    const storage = await createLowdbStorage({ dataDir: path.join(dir, 'a', 'b'), key });
    opened.push(storage);
    expect(await storage.integrations.list()).toEqual([]);
    expect(await storage.users.list()).toEqual([]);
  });

  it('keeps every secret out of db.json in clear, yet reads them back', async () => {
    const storage = await open();
    const record = integration('ck1');
    await storage.integrations.put(record);
    await storage.integrations.update('ck1', (r) => ({
      ...r,
      status: 'active',
      accessToken: 'access-token-value-p0q7',
      accessTokenSecret: 'access-token-secret-x5v3',
    }));
    const secrets = [
      record.consumerSecret,
      record.verifier,
      'access-token-value-p0q7',
      'access-token-secret-x5v3',
    ];
    const text = await dbText();
    expect(text).toContain('ck1');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(JSON.parse(text).integrations[0].consumerSecret).toMatch(/^v1:/);

    await storage.close();
    const reopened = await open();
    const back = await reopened.integrations.get('ck1');
    expect(back).toMatchObject({
      consumerSecret: record.consumerSecret,
      verifier: record.verifier,
      accessToken: 'access-token-value-p0q7',
      accessTokenSecret: 'access-token-secret-x5v3',
      status: 'active',
    });
  });

  it('refuses at start a db.json written with a different key', async () => {
    const storage = await open();
    await storage.integrations.put(integration('ck1'));
    await storage.close();
    await expect(open(otherKey)).rejects.toThrow(
      /db\.json was encrypted with a different TOKEN_ENCRYPTION_KEY/,
    );
  });

  it('names the different key even for a file without a key fingerprint', async () => {
    const stored = { ...integration('ck1'), consumerSecret: encryptSecret('s', otherKey) };
    stored.verifier = encryptSecret('v', otherKey);
    await writeFile(path.join(dir, DB_FILE_NAME), JSON.stringify({ integrations: [stored] }));
    await expect(open()).rejects.toThrow(/different TOKEN_ENCRYPTION_KEY/);
  });

  it('reports a modified secret as such when the key is right', async () => {
    const storage = await open();
    await storage.integrations.put(integration('ck1'));
    await storage.close();
    const data = JSON.parse(await dbText());
    data.integrations[0].verifier = encryptSecret('forged', otherKey);
    await writeFile(path.join(dir, DB_FILE_NAME), JSON.stringify(data));
    await expect(open()).rejects.toThrow(/integration ck1 cannot be decrypted \(the file was modified\)/);
  });

  it('refuses a db.json that is not JSON, naming the file', async () => {
    await writeFile(path.join(dir, DB_FILE_NAME), '{ not json');
    await expect(open()).rejects.toThrow(/Could not read .*db\.json/);
  });

  it('refuses a db.json of another shape or version', async () => {
    for (const text of ['[]', '{"integrations": {}}', '{"version": 2}']) {
      await writeFile(path.join(dir, DB_FILE_NAME), text);
      await expect(open()).rejects.toThrow(/does not look like a connector database/);
    }
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
    expect((await storage.integrations.get('ck1'))?.callbackCount).toBe(50);
    await storage.close();
    expect((await (await open()).integrations.get('ck1'))?.callbackCount).toBe(50);
  });

  it('keeps all of 50 concurrent puts after reopening the file', async () => {
    const storage = await open();
    await Promise.all(Array.from({ length: 50 }, (_, i) => storage.integrations.put(integration(`ck${i}`))));
    await storage.close();
    const keys = (await (await open()).integrations.list()).map((r) => r.consumerKey).sort();
    expect(keys).toEqual(Array.from({ length: 50 }, (_, i) => `ck${i}`).sort());
  });

  it('close() waits for writes still queued', async () => {
    const storage = await open();
    const pending = Array.from({ length: 10 }, (_, i) => storage.integrations.put(integration(`ck${i}`)));
    await storage.close();
    await Promise.all(pending);
    await expect(storage.integrations.put(integration('late'))).rejects.toThrow(/closed/);
    expect(await (await open()).integrations.list()).toHaveLength(10);
  });

  it('update() on a missing record throws NotFoundError', async () => {
    const storage = await open();
    await expect(storage.integrations.update('nope', (r) => r)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('update() that throws, or changes the key, stores nothing', async () => {
    const storage = await open();
    await storage.integrations.put(integration('ck1'));
    await expect(
      storage.integrations.update('ck1', () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    await expect(storage.integrations.update('ck1', (r) => ({ ...r, consumerKey: 'other' }))).rejects.toThrow(
      /consumer key/,
    );
    expect(await storage.integrations.list()).toEqual([integration('ck1')]);
  });

  it('put() replaces a record with the same consumer key', async () => {
    const storage = await open();
    await storage.integrations.put(integration('ck1'));
    await storage.integrations.put(integration('ck1', { status: 'failed', statusReason: 'token_rejected' }));
    expect(await storage.integrations.list()).toHaveLength(1);
    expect((await storage.integrations.get('ck1'))?.status).toBe('failed');
  });

  it('listByStore() returns one store’s records, newest first', async () => {
    const storage = await open();
    await storage.integrations.put(integration('old', { createdAt: '2025-01-01T00:00:00.000Z' }));
    await storage.integrations.put(integration('new', { createdAt: '2025-03-01T00:00:00.000Z' }));
    await storage.integrations.put(integration('mid', { createdAt: '2025-02-01T00:00:00.000Z' }));
    await storage.integrations.put(integration('elsewhere', { storeBaseUrl: 'http://other.test/' }));
    const keys = (await storage.integrations.listByStore('http://store.test/')).map((r) => r.consumerKey);
    expect(keys).toEqual(['new', 'mid', 'old']);
  });

  it('hands out copies: changing them changes nothing stored', async () => {
    const storage = await open();
    const input = integration('ck1');
    await storage.integrations.put(input);
    input.status = 'active';
    input.events.push({ at: 'x', step: 'reset', ok: false });

    const got = await storage.integrations.get('ck1');
    if (!got) throw new Error('missing');
    got.status = 'failed';
    got.events.length = 0;
    const [listed] = await storage.integrations.list();
    if (!listed) throw new Error('missing');
    listed.consumerSecret = 'changed';
    const updated = await storage.integrations.update('ck1', (r) => ({ ...r, callbackCount: 1 }));
    updated.history.push({ consumerKey: 'x', reason: 'reset', receivedAt: 'x', replacedAt: 'x' });

    expect(await storage.integrations.get('ck1')).toEqual({ ...integration('ck1'), callbackCount: 1 });

    await storage.users.create({ id: 'u1', email: 'a@b.co', passwordHash: 'h', createdAt: 'now' });
    const user = await storage.users.getById('u1');
    if (!user) throw new Error('missing');
    user.email = 'changed@b.co';
    expect((await storage.users.getById('u1'))?.email).toBe('a@b.co');
  });

  it('users: finds by id and by email ignoring case; duplicate email is a DuplicateError', async () => {
    const storage = await open();
    const user = { id: 'u1', email: 'Ann@Example.com', passwordHash: 'scrypt$x', createdAt: 'now' };
    await storage.users.create(user);
    expect(await storage.users.getById('u1')).toEqual(user);
    expect(await storage.users.getByEmail('ann@example.COM')).toEqual(user);
    expect(await storage.users.getByEmail('bob@example.com')).toBeUndefined();
    await expect(
      storage.users.create({ ...user, id: 'u2', email: 'ANN@example.com' }),
    ).rejects.toBeInstanceOf(DuplicateError);
    await expect(storage.users.create({ ...user, email: 'other@example.com' })).rejects.toBeInstanceOf(
      DuplicateError,
    );
    expect(await storage.users.list()).toHaveLength(1);
  });

  it('users: concurrent creates with one email leave exactly one user', async () => {
    const storage = await open();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        storage.users.create({ id: `u${i}`, email: 'same@example.com', passwordHash: 'h', createdAt: 'now' }),
      ),
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
});
