import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decryptSecret, DifferentKeyError, secretContext } from '../../src/storage/crypto.js';
import { createEmbeddedStorage } from '../../src/storage/embedded/embedded-storage.js';
import { createPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { rotateStorageKey } from '../../src/storage/rotate-key.js';
import { INTEGRATION_SECRET_FIELDS, type IntegrationRecord, type Storage } from '../../src/storage/types.js';
import { createTestDatabase } from '../helpers/postgres.js';

const oldKey = Buffer.alloc(32, 1);
const newKey = Buffer.alloc(32, 2);
const wrongKey = Buffer.alloc(32, 3);
const at = new Date('2026-01-01T00:00:00Z').toISOString();

function integration(n: number): IntegrationRecord {
  const consumerKey = `ck${String(n).padStart(30, '0')}`;
  return {
    consumerKey,
    storeBaseUrl: `http://store-${n}.test/`,
    storeOrigin: `http://store-${n}.test`,
    status: n % 2 ? 'active' : 'pending',
    consumerSecret: `consumer-secret-${n}`,
    verifier: `verifier-${n}`,
    ...(n % 2 ? { accessToken: `access-${n}`, accessTokenSecret: `access-secret-${n}` } : {}),
    signatureMethod: 'HMAC-SHA256',
    receivedAt: at,
    callbackCount: 1,
    createdAt: at,
    updatedAt: at,
    events: [],
    history: [],
  };
}

const secretsOf = (records: IntegrationRecord[]) =>
  records.reduce((n, r) => n + INTEGRATION_SECRET_FIELDS.filter((f) => r[f] !== undefined).length, 0);
const byKey = (records: IntegrationRecord[]) =>
  [...records].sort((a, b) => a.consumerKey.localeCompare(b.consumerKey));

interface Harness {
  label: string;
  dataDir: string;
  databaseUrl?: string;
  open(key: Buffer): Promise<Storage>;
  /** The integrations as stored (secrets encrypted). */
  stored(): Promise<IntegrationRecord[]>;
  teardown(): Promise<void>;
}

async function embedded(): Promise<Harness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mic-rotate-'));
  return {
    label: 'embedded',
    dataDir,
    open: (key) => createEmbeddedStorage({ dataDir, key }),
    async stored() {
      // The snapshot, plus anything a journal holds after it.
      const snapshot = JSON.parse(await readFile(path.join(dataDir, 'db.json'), 'utf8')) as {
        collections: { integrations?: [string, IntegrationRecord][] };
      };
      const out = new Map(snapshot.collections.integrations ?? []);
      for (const name of (await readdir(dataDir)).filter((n) => /^db\.\d+\.journal$/.test(n))) {
        for (const line of (await readFile(path.join(dataDir, name), 'utf8')).split('\n')) {
          const change = line ? (JSON.parse(line) as { c?: string; k?: string; v?: IntegrationRecord }) : {};
          if (change.c === 'integrations' && change.k && change.v) out.set(change.k, change.v);
        }
      }
      return [...out.values()];
    },
    teardown: () => rm(dataDir, { recursive: true, force: true }),
  };
}

async function postgres(): Promise<Harness> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mic-rotate-pg-'));
  return {
    label: 'postgres',
    dataDir,
    databaseUrl: db.url,
    open: (key) => createPostgresStorage({ url: db.url, key, max: 2, maintenanceIntervalSeconds: 1 }),
    async stored() {
      const storage = await createPostgresStorage({ url: db.url, key: newKey, max: 1 }).catch(() =>
        createPostgresStorage({ url: db.url, key: oldKey, max: 1 }),
      );
      try {
        const { rows } = await storage.pool.query<{ record: IntegrationRecord }>(
          'SELECT record FROM integrations',
        );
        return rows.map((r) => r.record);
      } finally {
        await storage.close();
      }
    },
    async teardown() {
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each([
  ['embedded', embedded],
  ['postgres', postgres],
])('key rotation (%s)', (_label, make) => {
  let h: Harness;
  const records = Array.from({ length: 25 }, (_, i) => integration(i + 1));
  let before: IntegrationRecord[];

  beforeAll(async () => {
    h = await make();
    const storage = await h.open(oldKey);
    for (const record of records) await storage.integrations.create(record);
    await storage.users.create({
      id: 'u1',
      email: 'a@example.test',
      passwordHash: 'scrypt$1$1$1$a$b',
      createdAt: at,
    });
    await storage.close();
    before = await h.stored();
  });
  afterAll(() => h.teardown());

  it('refuses a wrong current key and leaves the data as it was', async () => {
    await expect(rotate(h, wrongKey, newKey)).rejects.toBeInstanceOf(DifferentKeyError);
    expect(byKey(await h.stored())).toEqual(byKey(before));
  });

  it('re-encrypts every secret: the new key reads them all, the old key is refused', async () => {
    const result = await rotate(h, oldKey, newKey);
    expect(result).toEqual({
      integrations: records.length,
      secrets: secretsOf(records),
      alreadyRotated: false,
    });

    const storage = await h.open(newKey);
    try {
      expect(byKey(await storage.integrations.list())).toEqual(byKey(records));
      expect(await storage.users.getByEmail('a@example.test')).toMatchObject({ id: 'u1' });
    } finally {
      await storage.close();
    }
    await expect(h.open(oldKey)).rejects.toBeInstanceOf(DifferentKeyError);

    // At rest, every secret is a new ciphertext that only the new key opens, bound to its record.
    const stored = new Map((await h.stored()).map((r) => [r.consumerKey, r]));
    const old = new Map(before.map((r) => [r.consumerKey, r]));
    for (const record of records) {
      for (const field of INTEGRATION_SECRET_FIELDS) {
        const value = stored.get(record.consumerKey)?.[field];
        if (record[field] === undefined) {
          expect(value).toBeUndefined();
          continue;
        }
        expect(value).not.toEqual(old.get(record.consumerKey)?.[field]);
        const context = secretContext(record.consumerKey, field);
        expect(decryptSecret(value!, newKey, context)).toBe(record[field]);
        expect(() => decryptSecret(value!, oldKey, context)).toThrow();
      }
    }
  });

  it('run again after it committed, it finds the new key in place and changes nothing', async () => {
    const atRest = await h.stored();
    await expect(rotate(h, oldKey, newKey)).resolves.toMatchObject({ alreadyRotated: true, secrets: 0 });
    expect(byKey(await h.stored())).toEqual(byKey(atRest));
  });
});

describe('key rotation beside a running instance', () => {
  it('embedded: an instance still on the old key fails its next write instead of mixing keys', async () => {
    const h = await embedded();
    try {
      const running = await h.open(oldKey);
      await running.integrations.create(integration(1));
      await rotate(h, oldKey, newKey);
      await expect(running.integrations.create(integration(2))).rejects.toBeInstanceOf(DifferentKeyError);
      await running.close().catch(() => undefined);

      const reopened = await h.open(newKey);
      try {
        expect(await reopened.integrations.list()).toEqual([integration(1)]);
      } finally {
        await reopened.close();
      }
    } finally {
      await h.teardown();
    }
  });

  it('postgres: refused while an instance is connected; nothing changes', async () => {
    const h = await postgres();
    let running: PostgresStorage | undefined;
    try {
      running = (await h.open(oldKey)) as PostgresStorage;
      await running.integrations.create(integration(1));
      const before = await h.stored();
      await expect(rotate(h, oldKey, newKey)).rejects.toThrow(/stop every connector instance/);
      expect(await h.stored()).toEqual(before);
      await running.close();
      running = undefined;

      await expect(rotate(h, oldKey, newKey)).resolves.toMatchObject({ integrations: 1, secrets: 4 });
      const reopened = await h.open(newKey);
      try {
        expect(await reopened.integrations.get(integration(1).consumerKey)).toEqual(integration(1));
      } finally {
        await reopened.close();
      }
    } finally {
      await running?.close();
      await h.teardown();
    }
  });
});

function rotate(h: Harness, from: Buffer, to: Buffer) {
  return rotateStorageKey({ dataDir: h.dataDir, databaseUrl: h.databaseUrl, oldKey: from, newKey: to });
}
