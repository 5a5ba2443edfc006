import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openStorage } from '../../src/storage/open.js';
import { migrate, readMigrations } from '../../src/storage/postgres/migrate.js';
import { createPgRecordStore } from '../../src/storage/postgres/record-store.js';
import { createPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import type { IntegrationRecord } from '../../src/storage/types.js';
import { createTestDatabase } from '../helpers/postgres.js';

const key = Buffer.alloc(32, 3);

async function eventually(check: () => boolean | Promise<boolean>, ms = 8_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

function integration(consumerKey: string): IntegrationRecord {
  const at = '2025-01-01T00:00:00.000Z';
  return {
    consumerKey,
    storeBaseUrl: 'http://store.test/',
    storeOrigin: 'http://store.test',
    status: 'pending',
    consumerSecret: 'cs',
    verifier: 'v',
    signatureMethod: 'HMAC-SHA256',
    receivedAt: at,
    callbackCount: 0,
    createdAt: at,
    updatedAt: at,
    events: [],
    history: [],
  };
}

describe('PostgreSQL storage', () => {
  const dbs: { drop: () => Promise<void> }[] = [];
  const opened: PostgresStorage[] = [];
  const fresh = async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    return db.url;
  };
  const open = async (url: string, extra: { key?: Buffer } = {}) => {
    const storage = await createPostgresStorage({
      url,
      key: extra.key ?? key,
      max: 3,
      maintenanceIntervalSeconds: 1,
    });
    opened.push(storage);
    return storage;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
  });

  describe('migrations', () => {
    it('binds each secret to its record: a ciphertext copied onto another record does not decrypt', async () => {
      const url = await fresh();
      const storage = await open(url);
      await storage.integrations.put({ ...integration('a'.repeat(32)), consumerSecret: 'secret-of-a' });
      await storage.integrations.put({ ...integration('b'.repeat(32)), consumerSecret: 'secret-of-b' });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        // An attacker with write access to the table moves a's secret onto b.
        await client.query(
          `UPDATE integrations SET record = jsonb_set(record, '{consumerSecret}',
           (SELECT record->'consumerSecret' FROM integrations WHERE consumer_key = $1))
         WHERE consumer_key = $2`,
          ['a'.repeat(32), 'b'.repeat(32)],
        );
      } finally {
        await client.end();
      }
      expect((await storage.integrations.get('a'.repeat(32)))?.consumerSecret).toBe('secret-of-a');
      expect((await rejection(storage.integrations.get('b'.repeat(32)))).name).toBe('DecryptionError');
    });

    it('two instances starting at once on an empty database: one migrates, both start', async () => {
      const url = await fresh();
      const [a, b] = await Promise.all([open(url), open(url)]);
      const { rows } = await a.pool.query<{ version: number; n: number }>(
        'SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version',
      );
      const known = await readMigrations();
      expect(rows).toEqual(known.map((m) => ({ version: m.version, n: 1 })));
      await a.integrations.create(integration('ck-1'));
      expect((await b.integrations.get('ck-1'))?.consumerKey).toBe('ck-1');
    });

    it('instances creating their queues at once on an empty database all start: no deadlock', async () => {
      const url = await fresh();
      const instances = await Promise.all([open(url), open(url), open(url)]);
      // As the connector does at start: every queue's worker at once, on every instance.
      const names = Array.from({ length: 8 }, (_, i) => `startup-${i}`);
      const outcomes = await Promise.allSettled(
        instances.flatMap((s) => names.map((n) => s.queue.work(n, { concurrency: 1 }, async () => {}))),
      );
      const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
      expect(failed).toEqual([]);
      const { rows } = await instances[0]!.pool.query<{ name: string }>(
        "SELECT name FROM pgboss.queue WHERE name LIKE 'startup-%' ORDER BY name",
      );
      expect(rows.map((r) => r.name)).toEqual(names);
    });

    it('migrates an older schema forward, keeping its data', async () => {
      const url = await fresh();
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      try {
        const known = await readMigrations();
        expect(await migrate(pool, known)).toEqual(known.map((m) => m.version));
        await pool.query(
          "INSERT INTO documents (collection, id, doc) VALUES ('alerts', 'a1', '{\"id\":\"a1\"}')",
        );
        const next = {
          version: 999,
          name: '999-note.sql',
          sql: 'ALTER TABLE documents ADD COLUMN note text',
        };
        expect(await migrate(pool, [...known, next])).toEqual([999]);
        expect(await migrate(pool, [...known, next])).toEqual([]);
        const { rows } = await pool.query("SELECT id, note FROM documents WHERE collection = 'alerts'");
        expect(rows).toEqual([{ id: 'a1', note: null }]);
      } finally {
        await pool.end();
      }
    });

    it('adds tombstones to records synced under the first schema: they stay live', async () => {
      const url = await fresh();
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      try {
        const known = await readMigrations();
        expect(
          await migrate(
            pool,
            known.filter((m) => m.version === 1),
          ),
        ).toEqual([1]);
        await pool.query(
          `INSERT INTO records (store, entity, id, updated_at, hash, data)
           VALUES ('s', 'products', '7', '2025-01-01 00:00:00', 'h7', '{"id":7}'),
                  ('s', 'products', '8', '2025-01-01 00:00:00', 'h8', '{"id":8}')`,
        );
        expect(await migrate(pool, known)).toEqual(known.filter((m) => m.version > 1).map((m) => m.version));
        const records = createPgRecordStore(pool);
        expect(await records.count('s', 'products')).toBe(2);
        expect(await records.get('s', 'products', '7')).toEqual({
          id: '7',
          updatedAt: '2025-01-01 00:00:00',
          hash: 'h7',
          data: { id: 7 },
        });
        expect(await records.markDeleted('s', 'products', ['8'], '2026-01-02T03:04:05.000Z')).toBe(1);
        expect(await records.count('s', 'products')).toBe(1);
        expect((await records.get('s', 'products', '8'))?.deletedAt).toBe('2026-01-02T03:04:05.000Z');
      } finally {
        await pool.end();
      }
    });

    it('refuses to start on a schema newer than the code', async () => {
      const url = await fresh();
      await (await open(url)).close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query("INSERT INTO schema_migrations (version, name) VALUES (998, '998-future.sql')");
      await client.end();
      const error = await rejection(open(url));
      expect(error.message).toMatch(/schema is at version 998, newer than this program knows \(\d+\)/);
    });

    it('refuses a database written with a different encryption key', async () => {
      const url = await fresh();
      await (await open(url)).close();
      const error = await rejection(open(url, { key: Buffer.alloc(32, 4) }));
      expect(error.message).toMatch(/different TOKEN_ENCRYPTION_KEY/);
    });
  });

  describe('DATABASE_URL', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'mic-pg-open-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    const openWith = (databaseUrl: string) =>
      openStorage({ dataDir: dir, envKey: key.toString('hex'), production: false, databaseUrl });

    it('opens PostgreSQL when DATABASE_URL is set', async () => {
      const { storage } = await openWith(await fresh());
      try {
        expect(storage.kind).toBe('postgres');
        await storage.ping();
      } finally {
        await storage.close();
      }
    });

    it('names DATABASE_URL and the cause, never the password', async () => {
      const error = await rejection(openWith('postgres://app:hunter2-secret@127.0.0.1:1/app'));
      expect(error.message).toMatch(
        /^Could not connect to DATABASE_URL \(postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/app\): (connect )?ECONNREFUSED/,
      );
      expect(error.message).not.toContain('hunter2');
    });

    it('says when the server refuses the credentials or the database', async () => {
      const url = new URL(await fresh());
      url.password = 'wrong-password-x9';
      const badPassword = await rejection(openWith(url.toString()));
      expect(badPassword.message).toMatch(
        /^Could not connect to DATABASE_URL \(postgres:\/\/postgres:\*\*\*@/,
      );
      expect(badPassword.message).toMatch(/password authentication failed for user "postgres"/);
      expect(badPassword.message).not.toContain('wrong-password-x9');
      url.password = new URL(await fresh()).password;
      url.pathname = '/no_such_db';
      expect((await rejection(openWith(url.toString()))).message).toMatch(
        /database "no_such_db" does not exist/,
      );
    });
  });

  describe('between instances', () => {
    let url: string;
    beforeAll(async () => {
      url = await fresh();
    });

    it('serialises update() across instances: no increment is lost', async () => {
      const [a, b] = await Promise.all([open(url), open(url)]);
      await a.integrations.create(integration('shared'));
      // Enough at once that writes conflict and changes run again on the newer record.
      let runs = 0;
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).integrations.update('shared', (r) => {
            runs++;
            return { ...r, callbackCount: r.callbackCount + 1 };
          }),
        ),
      );
      expect((await a.integrations.get('shared'))?.callbackCount).toBe(40);
      expect(runs).toBeGreaterThanOrEqual(40);
    });

    it('delivers a notice to every instance, and again after the listener reconnects', async () => {
      const [a, b] = await Promise.all([open(url), open(url)]);
      const heard = { a: 0, b: 0 };
      a.notices.subscribe('integration:x', () => heard.a++);
      b.notices.subscribe('integration:x', () => heard.b++);
      await a.notices.publish('integration:x');
      await eventually(() => heard.a === 1 && heard.b === 1);

      // Drop every listening connection (as a server restart or a proxy would).
      await a.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mic-notices' AND datname = current_database()",
      );
      // On reconnecting each listener fires its topics once ("look again").
      await eventually(() => heard.a === 2 && heard.b === 2);
      await b.notices.publish('integration:x');
      await eventually(() => heard.a === 3 && heard.b === 3);
    });

    it('runs a job whose process died once it expires, on another instance', async () => {
      const [a, b] = await Promise.all([open(url), open(url)]);
      const queue = 'dead-worker';
      const id = await a.queue.send(queue, { n: 1 }, { expireInSeconds: 1, retryDelaySeconds: 0 });
      // A process that took the job and was killed: the row stays active, nobody completes it.
      const [taken] = await a.queue.boss.fetch(queue);
      expect(taken?.id).toBe(id);
      const started = Date.now();
      const runs: string[] = [];
      await b.queue.work(queue, { concurrency: 1 }, async (job) => {
        runs.push(job.id);
      });
      await eventually(() => runs.length === 1, 10_000);
      expect(runs).toEqual([id]);
      // Expiry (1 s) + maintenance (every 1 s here) + polling (0.5 s).
      expect(Date.now() - started).toBeLessThan(6_000);
    });

    it('gives up a handler at its expiry: its signal aborts and the job is retried', async () => {
      const a = await open(url);
      const queue = 'expiring';
      const attempts: { retryCount: number; aborted: boolean }[] = [];
      await a.queue.send(queue, {}, { expireInSeconds: 1, retryDelaySeconds: 0, retryBackoff: false });
      await a.queue.work(queue, { concurrency: 1 }, async (job, signal) => {
        if (job.retryCount === 0) {
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        }
        attempts.push({ retryCount: job.retryCount, aborted: signal.aborted });
      });
      await eventually(() => attempts.length === 2);
      expect(attempts).toEqual([
        { retryCount: 0, aborted: true },
        { retryCount: 1, aborted: false },
      ]);
      await eventually(async () => (await a.queue.pending(queue)) === 0);
    });

    it('a job waiting behind its key does not hold up the other keys', async () => {
      const a = await open(url);
      const queue = 'per-store';
      const log: string[] = [];
      await a.queue.work<{ k: string }>(queue, { concurrency: 2 }, async (job) => {
        log.push(`start ${job.data.k}`);
        await new Promise((resolve) => setTimeout(resolve, job.data.k === 'A1' ? 1_500 : 50));
        log.push(`end ${job.data.k}`);
      });
      await a.queue.send(queue, { k: 'A1' }, { singletonKey: 'A' });
      await eventually(() => log.includes('start A1'));
      await a.queue.send(queue, { k: 'A2' }, { singletonKey: 'A' });
      await a.queue.send(queue, { k: 'B1' }, { singletonKey: 'B' });
      await a.queue.send(queue, { k: 'C1' });
      await eventually(() => log.includes('end A2'));
      expect(log.indexOf('end B1')).toBeLessThan(log.indexOf('end A1'));
      expect(log.indexOf('end C1')).toBeLessThan(log.indexOf('end A1'));
      expect(log.indexOf('start A2')).toBeGreaterThan(log.indexOf('end A1'));
    });

    it('stately: a job sent while one runs waits for it, then runs', async () => {
      const a = await open(url);
      const queue = 'one-at-a-time';
      let running = 0;
      let most = 0;
      let done = 0;
      await a.queue.work(queue, { concurrency: 3 }, async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 300));
        running--;
        done++;
      });
      await a.queue.send(queue, {}, { singletonKey: 'store-1' });
      await eventually(() => running === 1);
      expect(await a.queue.send(queue, {}, { singletonKey: 'store-1' })).toEqual(expect.any(String));
      expect(await a.queue.send(queue, {}, { singletonKey: 'store-1' })).toBeNull();
      await eventually(() => done === 2);
      expect(most).toBe(1);
    });
  });
});
