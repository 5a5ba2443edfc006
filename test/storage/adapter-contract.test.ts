import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SessionData } from 'express-session';
import { createEmbeddedStorage } from '../../src/storage/embedded/embedded-storage.js';
import type { Job } from '../../src/storage/jobs.js';
import { createPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import type { LocalRecord } from '../../src/storage/records.js';
import {
  authModeOf,
  DuplicateError,
  NotFoundError,
  type IntegrationRecord,
  type Storage,
  type UserRecord,
} from '../../src/storage/types.js';
import { createTestDatabase } from '../helpers/postgres.js';

const key = Buffer.alloc(32, 7);

/** One backing store (a data dir, a database) and the instances opened on it. */
interface Harness {
  open(): Promise<Storage>;
  /** Another instance on the same data: beside `previous` on PostgreSQL, after closing it when embedded. */
  another(previous: Storage): Promise<Storage>;
  /** Everything the integrations are stored as, as text. */
  atRest(): Promise<string>;
  teardown(): Promise<void>;
  /** Several instances at once on one backing store. */
  shared: boolean;
}

async function embeddedHarness(): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mic-contract-'));
  const opened: Storage[] = [];
  const open = async () => {
    const storage = await createEmbeddedStorage({ dataDir: dir, key });
    opened.push(storage);
    return storage;
  };
  return {
    open,
    async another(previous) {
      await previous.close();
      return open();
    },
    // Snapshots and journals alike.
    atRest: async () =>
      (
        await Promise.all(
          (await readdir(dir, { withFileTypes: true }))
            .filter((e) => e.isFile())
            .map((e) => readFile(path.join(dir, e.name), 'utf8')),
        )
      ).join('\n'),
    async teardown() {
      await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
      await rm(dir, { recursive: true, force: true });
    },
    shared: false,
  };
}

async function postgresHarness(): Promise<Harness> {
  const db = await createTestDatabase();
  const opened: PostgresStorage[] = [];
  const open = async () => {
    const storage = await createPostgresStorage({ url: db.url, key, max: 4, maintenanceIntervalSeconds: 1 });
    opened.push(storage);
    return storage;
  };
  return {
    open,
    another: () => open(),
    async atRest() {
      const storage = opened[0] ?? (await open());
      const { rows } = await (storage as PostgresStorage).pool.query<{ text: string }>(
        "SELECT coalesce(string_agg(record::text, ' '), '') AS text FROM integrations",
      );
      return rows[0]?.text ?? '';
    },
    async teardown() {
      await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
      await db.drop();
    },
    shared: true,
  };
}

const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

function integration(consumerKey: string, overrides: Partial<IntegrationRecord> = {}): IntegrationRecord {
  return {
    consumerKey,
    storeBaseUrl: 'http://store.test/',
    storeOrigin: 'http://store.test',
    status: 'pending',
    consumerSecret: `consumer-secret-${consumerKey}-zq81`,
    verifier: `verifier-${consumerKey}-k2m9`,
    signatureMethod: 'HMAC-SHA256',
    receivedAt: at(0),
    callbackCount: 0,
    createdAt: at(0),
    updatedAt: at(0),
    events: [],
    history: [],
    ...overrides,
  };
}

function user(email: string): UserRecord {
  return { id: unique('u'), email, passwordHash: 'scrypt$1$1$1$a$b', createdAt: at(0) };
}

/** Resolves when `check` holds, polling; fails the test after `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 8_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const record = (id: string, hash = `h-${id}`): LocalRecord => ({
  id,
  updatedAt: '2025-01-01 00:00:00',
  hash,
  data: { id, name: `item ${id}` },
});

describe.each([
  { name: 'embedded', harness: embeddedHarness },
  { name: 'postgres', harness: postgresHarness },
])('$name storage', ({ harness: makeHarness }) => {
  let harness: Harness;
  let storage: Storage;

  beforeAll(async () => {
    harness = await makeHarness();
    storage = await harness.open();
  });
  afterAll(async () => {
    await harness.teardown();
  });

  describe('integrations', () => {
    it('creates once, refusing a duplicate consumer key', async () => {
      const k = unique('ck');
      await storage.integrations.create(integration(k));
      await expect(storage.integrations.create(integration(k))).rejects.toBeInstanceOf(DuplicateError);
      expect(await storage.integrations.get(k)).toEqual(integration(k));
    });

    it('updates atomically; undefined writes nothing; a missing key is NotFoundError', async () => {
      const k = unique('ck');
      await storage.integrations.put(integration(k));
      const updated = await storage.integrations.update(k, (r) => ({ ...r, status: 'active' }));
      expect(updated.status).toBe('active');
      const same = await storage.integrations.update(k, () => undefined);
      expect(same.status).toBe('active');
      expect((await storage.integrations.get(k))?.status).toBe('active');
      await expect(storage.integrations.update(unique('none'), (r) => r)).rejects.toBeInstanceOf(
        NotFoundError,
      );
      // Concurrent increments: none lost.
      await Promise.all(
        Array.from({ length: 8 }, () =>
          storage.integrations.update(k, (r) => ({ ...r, callbackCount: r.callbackCount + 1 })),
        ),
      );
      expect((await storage.integrations.get(k))?.callbackCount).toBe(8);
    });

    it('lists by status and user, and by store, newest first; deletes', async () => {
      const store = `http://${unique('shop')}.test/`;
      const owner = unique('user');
      const a = integration(unique('a'), { storeBaseUrl: store, createdAt: at(1), userId: owner });
      const b = integration(unique('b'), { storeBaseUrl: store, createdAt: at(3), status: 'active' });
      const c = integration(unique('c'), { storeBaseUrl: store, createdAt: at(2), status: 'failed' });
      for (const r of [a, b, c]) await storage.integrations.create(r);

      expect((await storage.integrations.listByStore(store)).map((r) => r.consumerKey)).toEqual([
        b.consumerKey,
        c.consumerKey,
        a.consumerKey,
      ]);
      const mine = await storage.integrations.list({ userId: owner });
      expect(mine.map((r) => r.consumerKey)).toEqual([a.consumerKey]);
      const unfinished = await storage.integrations.list({ statuses: ['failed', 'active'] });
      const keys = unfinished.map((r) => r.consumerKey);
      expect(keys.indexOf(b.consumerKey)).toBeLessThan(keys.indexOf(c.consumerKey));
      expect(keys).not.toContain(a.consumerKey);
      expect(unfinished.every((r) => r.status === 'failed' || r.status === 'active')).toBe(true);

      expect(await storage.integrations.delete(a.consumerKey)).toBe(true);
      expect(await storage.integrations.delete(a.consumerKey)).toBe(false);
      expect(await storage.integrations.get(a.consumerKey)).toBeUndefined();
      expect((await storage.integrations.listByStore(store)).map((r) => r.consumerKey)).toEqual([
        b.consumerKey,
        c.consumerKey,
      ]);

      // Moved to another store (put and update alike): found under the new URL only.
      const elsewhere = `http://${unique('other')}.test/`;
      await storage.integrations.update(c.consumerKey, (r) => ({ ...r, storeBaseUrl: elsewhere }));
      await storage.integrations.put({ ...b, storeBaseUrl: elsewhere });
      expect(await storage.integrations.listByStore(store)).toEqual([]);
      expect((await storage.integrations.listByStore(elsewhere)).map((r) => r.consumerKey)).toEqual([
        b.consumerKey,
        c.consumerKey,
      ]);
      // As another instance reads them (for the embedded files: replayed from the journal).
      const other = await harness.another(storage);
      storage = other;
      expect((await other.integrations.listByStore(elsewhere)).map((r) => r.consumerKey)).toEqual([
        b.consumerKey,
        c.consumerKey,
      ]);
      expect(await other.integrations.listByStore(store)).toEqual([]);
    });

    it('lists records created at the same moment in one order, by consumer key, however they change', async () => {
      const store = `http://${unique('same-time')}.test/`;
      const keys = ['c', 'a', 'b'].map((k) => `${k}-${unique('k')}`);
      for (const k of keys) await storage.integrations.create(integration(k, { storeBaseUrl: store }));
      const sorted = [...keys].sort();
      expect((await storage.integrations.listByStore(store)).map((r) => r.consumerKey)).toEqual(sorted);
      for (const k of [...keys].reverse()) {
        await storage.integrations.update(k, (r) => ({ ...r, status: 'active' }));
        expect((await storage.integrations.listByStore(store)).map((r) => r.consumerKey)).toEqual(sorted);
      }
      const listed = (await storage.integrations.list({ statuses: ['active'] })).map((r) => r.consumerKey);
      expect(listed.filter((k) => keys.includes(k))).toEqual(sorted);
    });

    it('lists without secrets when asked: none is returned, everything else is', async () => {
      const k = unique('nosecret');
      const record = integration(k, { accessToken: 'token-value-q1', accessTokenSecret: 'secret-value-q2' });
      await storage.integrations.create(record);
      const [light] = (await storage.integrations.list({ secrets: false })).filter(
        (r) => r.consumerKey === k,
      );
      const { consumerSecret, verifier, accessToken, accessTokenSecret, ...rest } = record;
      expect([consumerSecret, verifier, accessToken, accessTokenSecret]).not.toContain(undefined);
      expect(light).toEqual(rest);
      // The stored record keeps them.
      expect(await storage.integrations.get(k)).toEqual(record);
    });

    it('keeps every secret encrypted at rest, yet reads them back', async () => {
      const k = unique('secret');
      await storage.integrations.put(integration(k));
      await storage.integrations.update(k, (r) => ({
        ...r,
        accessToken: 'access-token-value-p0q7',
        accessTokenSecret: 'access-token-secret-x5v3',
      }));
      const text = await harness.atRest();
      expect(text).toContain(k);
      for (const secret of [
        `consumer-secret-${k}-zq81`,
        `verifier-${k}-k2m9`,
        'access-token-value-p0q7',
        'access-token-secret-x5v3',
      ]) {
        expect(text).not.toContain(secret);
      }
      expect(await storage.integrations.get(k)).toMatchObject({
        consumerSecret: `consumer-secret-${k}-zq81`,
        accessTokenSecret: 'access-token-secret-x5v3',
      });
    });

    it('keeps an IMS store: client secret encrypted at rest, no OAuth secrets, the auth mode read back', async () => {
      const k = unique('ims');
      const ims = integration(k, {
        status: 'active',
        auth: 'ims-server-to-server',
        registration: 'ims',
        ims: {
          tokenUrl: 'https://ims.test/ims/token/v3',
          clientId: `client-${k}`,
          scopes: 'openid,commerce.accs',
        },
        imsClientSecret: `ims-client-secret-${k}-w7r2`,
        consumerSecret: undefined,
        verifier: undefined,
      });
      await storage.integrations.create(ims);
      const text = await harness.atRest();
      expect(text).toContain(`client-${k}`);
      expect(text).not.toContain(`ims-client-secret-${k}-w7r2`);
      const again = await harness.another(storage);
      storage = again;
      const read = await again.integrations.get(k);
      expect(read).toMatchObject({
        auth: 'ims-server-to-server',
        imsClientSecret: `ims-client-secret-${k}-w7r2`,
      });
      expect(read).not.toHaveProperty('consumerSecret');
      expect(authModeOf(read!)).toBe('ims-server-to-server');
      const light = (await again.integrations.list({ secrets: false })).find((r) => r.consumerKey === k);
      expect(light).toBeDefined();
      expect(light).not.toHaveProperty('imsClientSecret');
      expect(light?.ims?.clientId).toBe(`client-${k}`);
    });

    it('reads a record written before auth modes existed as an OAuth 1.0a integration', async () => {
      const k = unique('old');
      const old = integration(k, {
        status: 'active',
        accessToken: 'at-old-1',
        accessTokenSecret: 'ats-old-1',
      });
      expect(old).not.toHaveProperty('auth');
      await storage.integrations.put(old);
      storage = await harness.another(storage);
      const read = await storage.integrations.get(k);
      expect(read).toEqual(old);
      expect(authModeOf(read!)).toBe('oauth1-integration');
    });
  });
  describe('users', () => {
    it('keeps emails unique whatever their case; updates and deletes', async () => {
      const email = `${unique('Ann')}@Example.com`;
      const ann = user(email);
      await storage.users.create(ann);
      await expect(storage.users.create(user(email.toUpperCase()))).rejects.toBeInstanceOf(DuplicateError);
      expect((await storage.users.getByEmail(email.toLowerCase()))?.id).toBe(ann.id);
      expect((await storage.users.getById(ann.id))?.email).toBe(email);

      const changed = await storage.users.update(ann.id, (u) => ({
        ...u,
        role: 'admin',
        email: 'other@example.com',
        lastLoginAt: at(5),
      }));
      expect(changed).toMatchObject({ role: 'admin', email, lastLoginAt: at(5) });
      expect((await storage.users.getById(ann.id))?.role).toBe('admin');
      await expect(storage.users.update(unique('none'), (u) => u)).rejects.toBeInstanceOf(NotFoundError);
      expect((await storage.users.list()).some((u) => u.id === ann.id)).toBe(true);

      expect(await storage.users.delete(ann.id)).toBe(true);
      expect(await storage.users.delete(ann.id)).toBe(false);
      expect(await storage.users.getByEmail(email)).toBeUndefined();
    });
  });

  describe('documents', () => {
    interface Doc {
      id: string;
      storeKey: string;
      entity: string;
      n: number;
    }

    it('filters on fields, updates (also a missing one) and deletes', async () => {
      const docs = storage.documents<Doc>('sync_jobs');
      const storeKey = unique('store');
      await docs.put({ id: unique('d'), storeKey, entity: 'products', n: 1 });
      await docs.put({ id: unique('d'), storeKey, entity: 'orders', n: 2 });
      await docs.put({ id: unique('d'), storeKey: unique('other'), entity: 'products', n: 3 });

      const products = await docs.list({ storeKey, entity: 'products' });
      expect(products.map((d) => d.n)).toEqual([1]);
      expect((await docs.list({ storeKey })).map((d) => d.n)).toEqual([1, 2]);

      const id = unique('new');
      const created = await docs.update(id, (cur) => ({
        id,
        storeKey,
        entity: 'customers',
        n: (cur?.n ?? 0) + 1,
      }));
      expect(created.n).toBe(1);
      await Promise.all(
        Array.from({ length: 5 }, () => docs.update(id, (cur) => ({ ...cur!, n: cur!.n + 1 }))),
      );
      expect((await docs.get(id))?.n).toBe(6);

      await docs.delete(id);
      expect(await docs.get(id)).toBeUndefined();
      // Collections are apart.
      expect(await storage.documents<Doc>('alerts').list({ storeKey })).toEqual([]);
    });
  });

  describe('records', () => {
    it('tells created, updated and unchanged apart, streams in id order and counts', async () => {
      const store = unique('store');
      expect(
        await storage.records.upsert(
          store,
          'products',
          ['9', '10', '007', 'a', '2'].map((id) => record(id)),
        ),
      ).toEqual(['created', 'created', 'created', 'created', 'created']);
      expect(
        await storage.records.upsert(store, 'products', [
          record('9'),
          record('10', 'changed'),
          record('11'),
          record('11', 'again'),
        ]),
      ).toEqual(['unchanged', 'updated', 'created', 'updated']);
      const ids: string[] = [];
      for await (const r of storage.records.stream(store, 'products')) ids.push(r.id);
      expect(ids).toEqual(['2', '007', '9', '10', '11', 'a']);
      expect(await storage.records.count(store, 'products')).toBe(6);
      expect(await storage.records.count(store, 'orders')).toBe(0);
      expect(await storage.records.get(store, 'products', '11')).toMatchObject({
        hash: 'again',
        data: { id: '11' },
      });
      expect(await storage.records.get(store, 'products', 'zzz')).toBeUndefined();
    });

    it('keeps source-item ids (source/sku) past 2,000 of them: in order, counted, unchanged rows reported', async () => {
      const store = unique('stock');
      const id = (i: number) => `${i % 2 ? 'eu_warehouse' : 'default'}/SKU ${String(i).padStart(5, '0')}/x`;
      const ids = Array.from({ length: 2_600 }, (_, i) => id(i));
      // Reverse order in pages, so later pages land below ids already written.
      for (let end = ids.length; end > 0; end -= 500)
        await storage.records.upsert(
          store,
          'stock',
          ids.slice(Math.max(0, end - 500), end).map((i) => record(i)),
        );
      const streamed: string[] = [];
      for await (const r of storage.records.stream(store, 'stock')) streamed.push(r.id);
      expect(streamed).toEqual([...ids].sort());
      expect(await storage.records.count(store, 'stock')).toBe(2_600);
      expect(
        await storage.records.upsert(store, 'stock', [
          record(id(7)),
          record(id(2_000), 'moved'),
          record('default/new'),
        ]),
      ).toEqual(['unchanged', 'updated', 'created']);
      expect(await storage.records.get(store, 'stock', id(2_000))).toMatchObject({ hash: 'moved' });
    });

    it('streams past a page', async () => {
      const store = unique('big');
      const many = Array.from({ length: 2_345 }, (_, i) => record(String(i + 1)));
      await storage.records.upsert(store, 'customers', many);
      let count = 0;
      let last = 0;
      for await (const r of storage.records.stream(store, 'customers')) {
        expect(Number(r.id)).toBe(last + 1);
        last = Number(r.id);
        count++;
      }
      expect(count).toBe(2_345);
      expect(await storage.records.count(store, 'customers')).toBe(2_345);
    });

    const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
      const out: T[] = [];
      for await (const item of iterable) out.push(item);
      return out;
    };

    it('keeps tombstones with their data, counts and streams live records, and an upsert revives one', async () => {
      const store = unique('tomb');
      const ids = ['1', '2', '999', '1000', '1001', '2500'];
      await storage.records.upsert(
        store,
        'products',
        ids.map((id) => record(id)),
      );
      const at = '2026-03-04T05:06:07.000Z';
      // A missing id and a repeat are left alone; only live records change.
      expect(await storage.records.markDeleted(store, 'products', ['2', '1000', '404', '2'], at)).toBe(2);
      expect(await storage.records.markDeleted(store, 'products', ['2'], '2030-01-01T00:00:00.000Z')).toBe(0);
      expect(await storage.records.count(store, 'products')).toBe(4);
      expect(await storage.records.get(store, 'products', '1000')).toEqual({
        ...record('1000'),
        deletedAt: at,
      });
      expect(await storage.records.get(store, 'products', '2')).toMatchObject({ deletedAt: at });
      expect((await storage.records.get(store, 'products', '1'))?.deletedAt).toBeUndefined();
      expect((await collect(storage.records.stream(store, 'products'))).map((r) => r.id)).toEqual([
        '1',
        '999',
        '1001',
        '2500',
      ]);
      const all = await collect(storage.records.stream(store, 'products', { includeDeleted: true }));
      expect(all.map((r) => [r.id, r.deletedAt ?? null])).toEqual([
        ['1', null],
        ['2', at],
        ['999', null],
        ['1000', at],
        ['1001', null],
        ['2500', null],
      ]);
      // The same data again is not "unchanged" for a tombstone: it is live again.
      expect(
        await storage.records.upsert(store, 'products', [
          record('2'),
          record('1000', 'changed'),
          record('1'),
        ]),
      ).toEqual(['updated', 'updated', 'unchanged']);
      expect((await storage.records.get(store, 'products', '2'))?.deletedAt).toBeUndefined();
      expect(await storage.records.count(store, 'products')).toBe(6);
      expect(await storage.records.markDeleted(store, 'products', [], at)).toBe(0);
    });

    it('deletes every record of one store, tombstones included, and nothing of another', async () => {
      const [gone, kept] = [unique('unlinked'), unique('kept')];
      for (const store of [gone, kept]) {
        await storage.records.upsert(
          store,
          'products',
          ['1', '2', '3'].map((id) => record(id)),
        );
        await storage.records.upsert(
          store,
          'stock',
          ['default/a', 'default/b'].map((id) => record(id)),
        );
      }
      await storage.records.markDeleted(gone, 'products', ['2'], at(1));
      // Live ones counted: 2 products and 2 source items.
      expect(await storage.records.deleteStore(gone)).toBe(4);
      for (const entity of ['products', 'stock']) {
        expect(await storage.records.count(gone, entity)).toBe(0);
        expect(await collect(storage.records.stream(gone, entity, { includeDeleted: true }))).toEqual([]);
      }
      expect(await storage.records.get(gone, 'products', '2')).toBeUndefined();
      expect(await storage.records.count(kept, 'products')).toBe(3);
      expect(await storage.records.count(kept, 'stock')).toBe(2);
      expect(await storage.records.deleteStore(unique('never'))).toBe(0);
      // The store can be synced again from scratch.
      expect(await storage.records.upsert(gone, 'products', [record('1')])).toEqual(['created']);
    });

    it('walks live ids in id order after a given id, numeric and not, tombstones left out', async () => {
      const store = unique('ids');
      const ids = ['b', '10', 'a', '2', '007', 'Z', '1500', '999', 'x-1', '3000'];
      await storage.records.upsert(
        store,
        'orders',
        ids.map((id) => record(id)),
      );
      await storage.records.markDeleted(store, 'orders', ['999', 'a'], at(1));
      const ordered = ['2', '007', '10', '1500', '3000', 'Z', 'b', 'x-1'];
      expect(await collect(storage.records.liveIds(store, 'orders'))).toEqual(ordered);
      expect(await collect(storage.records.liveIds(store, 'orders', '10'))).toEqual(ordered.slice(3));
      // An id that is not stored still places the walk: 1001 is after 999 and before 1500.
      expect(await collect(storage.records.liveIds(store, 'orders', '1001'))).toEqual(ordered.slice(3));
      expect(await collect(storage.records.liveIds(store, 'orders', '3000'))).toEqual(['Z', 'b', 'x-1']);
      expect(await collect(storage.records.liveIds(store, 'orders', 'Z'))).toEqual(['b', 'x-1']);
      expect(await collect(storage.records.liveIds(store, 'orders', 'zz'))).toEqual([]);
      expect(await collect(storage.records.liveIds(unique('none'), 'orders'))).toEqual([]);
    });

    it('walks live ids past a page', async () => {
      const store = unique('many-ids');
      await storage.records.upsert(
        store,
        'products',
        Array.from({ length: 2_500 }, (_, i) => record(String(i + 1))),
      );
      const gone = Array.from({ length: 2_500 }, (_, i) => String(i + 1)).filter(
        (id) => Number(id) % 3 === 0,
      );
      expect(await storage.records.markDeleted(store, 'products', gone, at(2))).toBe(gone.length);
      const walked = await collect(storage.records.liveIds(store, 'products', '1200'));
      const expected = Array.from({ length: 1_300 }, (_, i) => i + 1201)
        .filter((n) => n % 3 !== 0)
        .map(String);
      expect(walked).toEqual(expected);
      expect(await storage.records.count(store, 'products')).toBe(2_500 - gone.length);
    });

    it('with ifNotOlder keeps a stored record newer than the incoming one, and takes one as new or newer', async () => {
      const store = unique('events');
      const v = (id: string, hash: string, updatedAt: string): LocalRecord => ({
        id,
        updatedAt,
        hash,
        data: { id, version: hash },
      });
      await storage.records.upsert(store, 'products', [
        v('1', 'new', '2025-01-01 10:00:05'),
        v('2', 'old', '2025-01-01 10:00:00'),
      ]);
      expect(
        await storage.records.upsert(
          store,
          'products',
          [
            v('1', 'older', '2025-01-01 10:00:04'),
            v('2', 'same-second', '2025-01-01 10:00:00'),
            v('3', 'first', '2025-01-01 09:00:00'),
          ],
          { ifNotOlder: true },
        ),
      ).toEqual(['unchanged', 'updated', 'created']);
      expect((await storage.records.get(store, 'products', '1'))?.data).toEqual({ id: '1', version: 'new' });
      expect((await storage.records.get(store, 'products', '2'))?.hash).toBe('same-second');
      // Without the option an older version is written (a poll's page replaces what it reads).
      expect(
        await storage.records.upsert(store, 'products', [v('1', 'older', '2025-01-01 10:00:04')]),
      ).toEqual(['updated']);
    });
  });

  describe('webhook events', () => {
    it('lets the first job claim an event, the same job again until it is applied, and no other; release frees it', async () => {
      const store = unique('store');
      expect(await storage.webhookEvents.seen(store, 'evt-1')).toBeUndefined();
      expect(await storage.webhookEvents.claim(store, 'evt-1', 'job-a')).toBe(true);
      expect(await storage.webhookEvents.claim(store, 'evt-1', 'job-a')).toBe(true);
      expect(await storage.webhookEvents.claim(store, 'evt-1', 'job-b')).toBe(false);
      expect(await storage.webhookEvents.seen(store, 'evt-1')).toBe('claimed');
      // The same event id from another store is another event.
      expect(await storage.webhookEvents.claim(unique('other'), 'evt-1', 'job-b')).toBe(true);
      await storage.webhookEvents.release(store, 'evt-1');
      expect(await storage.webhookEvents.seen(store, 'evt-1')).toBeUndefined();
      expect(await storage.webhookEvents.claim(store, 'evt-1', 'job-b')).toBe(true);
      // Once applied, not even its own job applies it again.
      await storage.webhookEvents.applied(store, 'evt-1');
      expect(await storage.webhookEvents.claim(store, 'evt-1', 'job-b')).toBe(false);
      expect(await storage.webhookEvents.claim(store, 'evt-1', 'job-c')).toBe(false);
      expect(await storage.webhookEvents.seen(store, 'evt-1')).toBe('applied');
    });

    it('lets one of many concurrent jobs claim an event', async () => {
      const store = unique('race');
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => storage.webhookEvents.claim(store, 'evt', `job-${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('prunes claims older than the cut-off and keeps the younger ones', async () => {
      const store = unique('prune');
      const base = Date.UTC(2020, 0, 1);
      for (let i = 0; i < 5; i++)
        await storage.webhookEvents.claim(store, `e${i}`, 'job', new Date(base + i * 60_000));
      const pruned = await storage.webhookEvents.prune(new Date(base + 2 * 60_000));
      // Other tests' claims are recent, so only these two are old enough.
      expect(pruned).toBe(2);
      const left = await Promise.all([0, 1, 2, 3, 4].map((i) => storage.webhookEvents.seen(store, `e${i}`)));
      expect(left).toEqual([undefined, undefined, 'claimed', 'claimed', 'claimed']);
    });

    it('prunes only the ids with a given start when asked to', async () => {
      const store = unique('prefix');
      const at = new Date(Date.UTC(2020, 0, 1));
      for (const id of ['sha256:aa', 'io:sha256:bb', 'io:cc'])
        await storage.webhookEvents.claim(store, id, 'job', at);
      await storage.webhookEvents.prune(new Date(at.getTime() + 1), 'sha256:');
      const left = await Promise.all(
        ['sha256:aa', 'io:sha256:bb', 'io:cc'].map((id) => storage.webhookEvents.seen(store, id)),
      );
      expect(left).toEqual([undefined, 'claimed', 'claimed']);
    });

    it('remembers claims in another instance', async () => {
      const store = unique('durable');
      await storage.webhookEvents.claim(store, 'kept', 'job-1');
      storage = await harness.another(storage);
      expect(await storage.webhookEvents.seen(store, 'kept')).toBe('claimed');
      expect(await storage.webhookEvents.claim(store, 'kept', 'job-2')).toBe(false);
    });
  });

  describe('sessions', () => {
    it('sets, gets and destroys through the express-session Store API', async () => {
      const store = storage.sessionStore();
      expect(storage.sessionStore()).toBe(store);
      const get = promisify(store.get.bind(store)) as (
        sid: string,
      ) => Promise<SessionData | null | undefined>;
      const set = promisify(store.set.bind(store)) as (sid: string, s: SessionData) => Promise<void>;
      const destroy = promisify(store.destroy.bind(store)) as (sid: string) => Promise<void>;
      const sid = unique('sid');
      const expires = new Date(Date.now() + 60_000);
      const data = {
        cookie: { originalMaxAge: 60_000, expires, httpOnly: true, path: '/' },
        userId: 'u-1',
      } as unknown as SessionData;
      await set(sid, data);
      expect(await get(sid)).toMatchObject({ userId: 'u-1' });
      await destroy(sid);
      expect(await get(sid)).toBeFalsy();
    });
  });

  describe('change notices', () => {
    it('reaches a subscriber; unsubscribing stops it', async () => {
      const topic = `integration:${unique('k')}`;
      let heard = 0;
      const off = storage.notices.subscribe(topic, () => heard++);
      await storage.notices.publish(topic);
      await eventually(() => heard === 1);
      off();
      await storage.notices.publish(topic);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard).toBe(1);
    });

    it('delivers every topic of a burst published at once, each publish resolving after it is sent', async () => {
      const topics = Array.from({ length: 60 }, () => `integration:${unique('burst')}`);
      const heard = new Map<string, number>();
      const offs = topics.map((t) =>
        storage.notices.subscribe(t, () => heard.set(t, (heard.get(t) ?? 0) + 1)),
      );
      // The same topic twice in one burst is one "look again": heard at least once.
      await Promise.all([...topics, topics[0]!].map((t) => storage.notices.publish(t)));
      await eventually(() => topics.every((t) => (heard.get(t) ?? 0) >= 1));
      offs.forEach((off) => off());
      expect([...heard.keys()].sort()).toEqual([...topics].sort());
    });
  });

  describe('job queue', () => {
    const name = () => unique('q');

    it('runs a sent job once, with its data', async () => {
      const queue = name();
      const seen: Job<{ n: number }>[] = [];
      const id = await storage.queue.send(queue, { n: 42 });
      expect(id).toEqual(expect.any(String));
      await storage.queue.work<{ n: number }>(queue, { concurrency: 2 }, async (job) => {
        seen.push(job);
      });
      await eventually(() => seen.length === 1);
      await eventually(async () => (await storage.queue.pending(queue)) === 0);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ id, name: queue, data: { n: 42 }, retryCount: 0 });
    });

    it('keeps one waiting job per singletonKey, and counts pending jobs', async () => {
      const queue = name();
      expect(await storage.queue.send(queue, { n: 1 }, { singletonKey: 'store-1' })).toEqual(
        expect.any(String),
      );
      expect(await storage.queue.send(queue, { n: 2 }, { singletonKey: 'store-1' })).toBeNull();
      expect(await storage.queue.send(queue, { n: 3 }, { singletonKey: 'store-2' })).toEqual(
        expect.any(String),
      );
      // Jobs without a key are never deduplicated.
      expect(await storage.queue.send(queue, { n: 4 })).toEqual(expect.any(String));
      expect(await storage.queue.send(queue, { n: 5 })).toEqual(expect.any(String));
      expect(await storage.queue.pending(queue)).toBe(4);
      expect(await storage.queue.pending(name())).toBe(0);
    });

    it('retries a throwing handler up to retryLimit', async () => {
      const queue = name();
      const attempts: number[] = [];
      await storage.queue.send(queue, {}, { retryLimit: 2, retryDelaySeconds: 0, retryBackoff: false });
      await storage.queue.work(queue, { concurrency: 1 }, async (job) => {
        attempts.push(job.retryCount);
        throw new Error('store down');
      });
      await eventually(() => attempts.length === 3);
      await eventually(async () => (await storage.queue.pending(queue)) === 0);
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(attempts).toEqual([0, 1, 2]);
    });

    it('stop() lets a running handler finish within the timeout', async () => {
      const own = await harness.another(storage);
      const queue = name();
      let started = false;
      let finished = false;
      let aborted = false;
      await own.queue.send(queue, {});
      await own.queue.work(queue, { concurrency: 1 }, async (_job, signal) => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 400));
        aborted = signal.aborted;
        finished = true;
      });
      await eventually(() => started);
      await own.queue.stop(5_000);
      expect(finished).toBe(true);
      expect(aborted).toBe(false);
      storage = harness.shared ? storage : await harness.another(own);
      expect(await storage.queue.pending(queue)).toBe(0);
    });

    it('runs again, on another instance, a job whose worker stopped without finishing it', async () => {
      const first = await harness.another(storage);
      const queue = name();
      let firstRun: Job<{ n: number }> | undefined;
      let sawAbort = false;
      const id = await first.queue.send(queue, { n: 7 }, { retryDelaySeconds: 0, retryBackoff: false });
      await first.queue.work<{ n: number }>(queue, { concurrency: 1 }, async (job, signal) => {
        firstRun = job;
        // A handler that ignores everything but its signal.
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        sawAbort = true;
      });
      await eventually(() => firstRun !== undefined);
      await first.queue.stop(1_000);
      expect(sawAbort).toBe(true);

      const second = harness.shared ? storage : await harness.another(first);
      storage = second;
      const rerun: Job<{ n: number }>[] = [];
      await second.queue.work<{ n: number }>(queue, { concurrency: 1 }, async (job) => {
        rerun.push(job);
      });
      await eventually(() => rerun.length === 1);
      expect(rerun[0]).toMatchObject({ id, data: { n: 7 } });
    });
  });
});
