import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { MagentoClient } from '../../src/magento/client.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { createFileRecordStore } from '../../src/storage/file-record-store.js';
import { openStorage } from '../../src/storage/open.js';
import type { RecordStore } from '../../src/storage/records.js';
import type { Storage } from '../../src/storage/types.js';
import { magentoTransport } from '../../src/sync/magento2/channel.js';
import { SyncService } from '../../src/sync/sync-service.js';
import { adminJson } from '../helpers/http.js';
import { manualIntegration } from '../helpers/simulator.js';

const PRODUCTS = 400;
let sim: RunningSimulator;
let dir: string;
let storeKey: string;
let client: MagentoClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: PRODUCTS, customers: 30, orders: 5 });
  dir = await mkdtemp(path.join(tmpdir(), 'sync-service-'));
  const { credentials } = await manualIntegration(sim.url, 'all');
  storeKey = credentials.consumerKey;
  client = new MagentoClient({
    storeBaseUrl: `${sim.url}/`,
    credentials,
    retry: { limit: 1, baseDelayMs: 5 },
  });
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(
  name: string,
): Promise<{ storage: Storage; records: RecordStore; close: () => Promise<void> }> {
  const { storage } = await openStorage({
    dataDir: path.join(dir, name),
    envKey: undefined,
    production: false,
  });
  const records = createFileRecordStore(path.join(dir, name, 'records'));
  return { storage, records, close: async () => (await records.close(), await storage.close()) };
}

const service = (storage: Storage, records: RecordStore, pageSize = 100) =>
  new SyncService({
    storage,
    records,
    transportFor: async () => magentoTransport(storeKey, client),
    entities: ['products', 'customers'],
    logger: pino({ level: 'silent' }),
    pageSize,
  });

describe('the sync job queue', () => {
  it('runs an initial load, then an incremental run from the saved cursor, with a status log', async () => {
    const db = await open('a');
    const sync = service(db.storage, db.records);
    await sync.start();
    await sync.enqueueStore(storeKey);
    await sync.idle();
    const first = await sync.listRuns(storeKey);
    expect(first.map((r) => `${r.entity}:${r.mode}:${r.ok}`).sort()).toEqual([
      'customers:initial:true',
      'products:initial:true',
    ]);
    expect(first.find((r) => r.entity === 'products')?.counts.created).toBe(PRODUCTS);

    await adminJson(sim.url, 'POST', '/catalog/touch', { count: 10 });
    const job = await sync.enqueue(storeKey, 'products');
    expect(job.mode).toBe('incremental');
    await sync.idle();
    const latest = (await sync.listRuns(storeKey)).find((r) => r.entity === 'products')!;
    expect(latest).toMatchObject({ mode: 'incremental', ok: true });
    expect(latest.counts.updated).toBe(10);
    expect(latest.counts.created).toBe(0);
    await sync.stop();
    await db.close();
  });

  it('resumes a job interrupted mid-run after a restart, without duplicates', async () => {
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/V1/products', latencyMs: 40 }] });
    try {
      let db = await open('b');
      let sync = service(db.storage, db.records, 50);
      await sync.start();
      const job = await sync.enqueue(storeKey, 'products');
      const jobs = db.storage.documents<{ id: string; checkpoint?: { page: number } }>('sync_jobs');
      while (((await jobs.get(job.id))?.checkpoint?.page ?? 0) < 2)
        await new Promise((r) => setTimeout(r, 20));
      await sync.stop();
      await db.close();
      // A new process on the same files.
      db = await open('b');
      const interrupted = await db.storage
        .documents<{ id: string; status: string; checkpoint?: { page: number } }>('sync_jobs')
        .get(job.id);
      expect(interrupted?.status).toBe('running');
      expect(interrupted?.checkpoint?.page).toBeGreaterThanOrEqual(2);
      expect(interrupted?.checkpoint?.page).toBeLessThan(PRODUCTS / 50);
      sync = service(db.storage, db.records, 50);
      await sync.start();
      await sync.idle();
      const [run] = await sync.listRuns(storeKey);
      expect(run).toMatchObject({ id: job.id, ok: true });
      expect(run!.counts.read).toBe(PRODUCTS);
      expect(run!.counts.created).toBe(PRODUCTS);
      expect(await db.records.count(storeKey, 'products')).toBe(PRODUCTS);
      await sync.stop();
      await db.close();
    } finally {
      await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    }
  });

  it('raises an alert when retries are exhausted, counts repeats, and clears it after a good run', async () => {
    const db = await open('c');
    const sync = service(db.storage, db.records);
    await sync.start();
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/V1/customers', errorRate: 1 }] });
    await sync.enqueue(storeKey, 'customers');
    await sync.idle();
    await sync.enqueue(storeKey, 'customers');
    await sync.idle();
    const [alert] = await sync.alerts();
    expect(alert).toMatchObject({ storeKey, entity: 'customers', count: 2 });
    expect(alert!.message).toMatch(/503/);
    await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    await sync.enqueue(storeKey, 'customers');
    await sync.idle();
    expect(await sync.alerts()).toEqual([]);
    expect((await sync.alerts({ includeResolved: true }))[0]?.resolvedAt).toBeDefined();
    await sync.stop();
    await db.close();
  });

  it('schedules per store and entity: a store can switch an entity off or on over the defaults', async () => {
    const db = await open('d');
    await db.storage.integrations.put({
      consumerKey: storeKey,
      storeBaseUrl: `${sim.url}/`,
      storeOrigin: sim.url,
      status: 'active',
      consumerSecret: 'x',
      verifier: 'x',
      signatureMethod: 'HMAC-SHA256',
      receivedAt: new Date().toISOString(),
      callbackCount: 1,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      events: [],
      history: [],
      syncIntervals: { products: 0, customers: 60 },
    });
    const sync = new SyncService({
      storage: db.storage,
      records: db.records,
      transportFor: async () => magentoTransport(storeKey, client),
      entities: ['products', 'customers', 'orders'],
      intervals: { products: 900, customers: 0, orders: 300 },
      logger: pino({ level: 'silent' }),
    });
    const queued = await sync.scheduleDue();
    expect(queued.map((j) => j.entity).sort()).toEqual(['customers', 'orders']);
    await sync.start();
    await sync.idle();
    // Right after those runs (ok or failed) nothing is due; an interval later they are again.
    expect(await sync.scheduleDue()).toEqual([]);
    expect((await sync.scheduleDue(Date.now() + 301_000)).map((j) => j.entity).sort()).toEqual([
      'customers',
      'orders',
    ]);
    await sync.stop();
    await db.close();
  });

  it('keeps working the queue when a write fails: the slice is retried, other runs go on', async () => {
    const db = await open('e');
    const runs = db.storage.documents<{ id: string }>('sync_runs');
    let failures = 1;
    const flaky: Storage = {
      ...db.storage,
      documents: <T extends { id: string }>(name: Parameters<Storage['documents']>[0]) => {
        const inner = db.storage.documents<T>(name);
        if (name !== 'sync_runs') return inner;
        return {
          ...inner,
          put: async (doc: T) => {
            if (failures-- > 0) throw new Error('disk full');
            return inner.put(doc);
          },
        };
      },
    };
    const sync = service(flaky, db.records);
    await sync.start();
    await sync.enqueue(storeKey, 'products');
    await sync.enqueue(storeKey, 'customers');
    await sync.idle();
    const done = await sync.listRuns(storeKey);
    expect(done.map((r) => [r.entity, r.ok]).sort()).toEqual([
      ['customers', true],
      ['products', true],
    ]);
    expect((await runs.list()).length).toBe(2);
    expect(await db.records.count(storeKey, 'products')).toBe(PRODUCTS);
    await sync.stop();
    await db.close();
  });
});
