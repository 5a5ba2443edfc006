import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { MagentoClient } from '../../src/magento/client.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/types.js';
import { magentoTransport } from '../../src/sync/magento2/channel.js';
import { SyncService, type SyncCursor, type SyncJob } from '../../src/sync/sync-service.js';
import { adminJson } from '../helpers/http.js';
import { signedRequest, type Credentials } from '../helpers/oauth-client.js';
import { manualIntegration } from '../helpers/simulator.js';

const PRODUCTS = 300;
let sim: RunningSimulator;
let dir: string;
let creds: Credentials & { consumerKey: string };
let client: MagentoClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: PRODUCTS, customers: 20, orders: 3 });
  dir = await mkdtemp(path.join(tmpdir(), 'sync-deletions-'));
  const { credentials } = await manualIntegration(sim.url, 'all');
  creds = credentials;
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

const open = async (name: string): Promise<Storage> =>
  (await openStorage({ dataDir: path.join(dir, name), envKey: undefined, production: false })).storage;

const service = (
  storage: Storage,
  options: { pageSize?: number; deletionScanSeconds?: number; entities?: string[] } = {},
) =>
  new SyncService({
    storage,
    records: storage.records,
    transportFor: async () => magentoTransport(creds.consumerKey, client),
    entities: options.entities ?? ['products', 'customers'],
    logger: pino({ level: 'silent' }),
    pageSize: options.pageSize ?? 100,
    ...(options.deletionScanSeconds !== undefined
      ? { deletionScanSeconds: options.deletionScanSeconds }
      : {}),
  });

async function deleteProduct(index: number): Promise<string> {
  const product = sim.catalog.products[index]!;
  const res = await signedRequest(sim.url, creds, {
    method: 'DELETE',
    path: `/rest/V1/products/${product.sku}`,
  });
  expect(res.status).toBe(200);
  return String(product.id);
}

const lastRun = async (sync: SyncService, entity: string) =>
  (await sync.listRuns(creds.consumerKey)).find((r) => r.entity === entity)!;

/** Id listings the store answered for this integration (they carry `fields=`). */
const idListings = async () =>
  (
    await adminJson<{ url: string; outcome: string }[]>(sim.url, 'GET', '/oauth-log?outcome=verified')
  ).body.filter((e) => e.url.startsWith('/rest/V1/products?') && e.url.includes('fields=')).length;

describe('deletion scans in sync runs', () => {
  it('an incremental run scans when the last scan is old enough, counts the deleted and records when', async () => {
    const storage = await open('scheduled');
    const sync = service(storage, { deletionScanSeconds: 3600 });
    await sync.start();
    try {
      const initial = await sync.enqueue(creds.consumerKey, 'products');
      // Nothing local can be gone before the first load.
      expect(initial).toMatchObject({ mode: 'initial' });
      expect(initial.scanDeletions).toBeUndefined();
      await sync.idle();
      const gone = [await deleteProduct(0), await deleteProduct(150)];

      // The initial load read everything: the first scan is due an interval after it, not at once.
      const cursors = storage.documents<SyncCursor>('sync_cursors');
      const cursorKey = `${creds.consumerKey}:products`;
      expect(Date.now() - Date.parse((await cursors.get(cursorKey))!.lastScanAt!)).toBeLessThan(60_000);
      const early = await sync.enqueue(creds.consumerKey, 'products');
      expect(early.scanDeletions).toBeUndefined();
      await sync.idle();
      expect((await lastRun(sync, 'products')).counts.deleted).toBe(0);
      // An hour and more later: due.
      await cursors.update(cursorKey, (c) => ({
        ...c!,
        lastScanAt: new Date(Date.now() - 3_601_000).toISOString(),
      }));
      const first = await sync.enqueue(creds.consumerKey, 'products');
      expect(first).toMatchObject({ mode: 'incremental', scanDeletions: true });
      await sync.idle();
      expect(await lastRun(sync, 'products')).toMatchObject({ ok: true, counts: { deleted: 2 } });
      for (const id of gone)
        expect((await storage.records.get(creds.consumerKey, 'products', id))?.deletedAt).toEqual(
          expect.any(String),
        );
      expect(await storage.records.count(creds.consumerKey, 'products')).toBe(PRODUCTS - 2);
      expect(Date.now() - Date.parse((await cursors.get(cursorKey))!.lastScanAt!)).toBeLessThan(60_000);

      // Scanned a moment ago: the next run only syncs, and counts nothing deleted.
      const gone3 = await deleteProduct(10);
      const second = await sync.enqueue(creds.consumerKey, 'products');
      expect(second.scanDeletions).toBeUndefined();
      await sync.idle();
      expect((await lastRun(sync, 'products')).counts.deleted).toBe(0);
      expect((await storage.records.get(creds.consumerKey, 'products', gone3))?.deletedAt).toBeUndefined();

      // Asked for: scanned whatever the schedule.
      const asked = await sync.enqueue(creds.consumerKey, 'products', { scanDeletions: true });
      expect(asked.scanDeletions).toBe(true);
      await sync.idle();
      expect((await lastRun(sync, 'products')).counts.deleted).toBe(1);
      expect(await storage.records.count(creds.consumerKey, 'products')).toBe(PRODUCTS - 3);
    } finally {
      await sync.stop();
      await storage.close();
    }
  });

  it('without deletionScanSeconds only a run asked for scans; customers deleted in the admin count too', async () => {
    const storage = await open('on-demand');
    const sync = service(storage);
    await sync.start();
    try {
      await sync.enqueueStore(creds.consumerKey);
      await sync.idle();
      const customer = sim.catalog.customers[4]!.id;
      expect((await adminJson(sim.url, 'DELETE', `/customers/${customer}`)).status).toBe(204);
      const plain = await sync.enqueue(creds.consumerKey, 'customers');
      expect(plain.scanDeletions).toBeUndefined();
      await sync.idle();
      expect((await lastRun(sync, 'customers')).counts.deleted).toBe(0);
      const jobs = await sync.enqueueStore(creds.consumerKey, { scanDeletions: true });
      expect(jobs.every((j) => j.scanDeletions)).toBe(true);
      await sync.idle();
      expect((await lastRun(sync, 'customers')).counts.deleted).toBe(1);
      expect(
        (await storage.records.get(creds.consumerKey, 'customers', String(customer)))?.deletedAt,
      ).toEqual(expect.any(String));
    } finally {
      await sync.stop();
      await storage.close();
    }
  });

  it('scans stock too: a full-scan entity whose source items went with their product', async () => {
    const storage = await open('stock');
    const sync = service(storage, { entities: ['stock'] });
    await sync.start();
    try {
      await sync.enqueueStore(creds.consumerKey);
      await sync.idle();
      const live = await storage.records.count(creds.consumerKey, 'stock');
      expect(live).toBe(sim.catalog.sourceItems.length);
      const product = sim.catalog.products[20]!;
      const gone = sim.catalog.sourceItems.filter((i) => i.sku === product.sku).length;
      expect(gone).toBeGreaterThan(0);
      sim.catalog.deleteProduct(product.sku);
      const [job] = await sync.enqueueStore(creds.consumerKey, { scanDeletions: true });
      expect(job?.scanDeletions).toBe(true);
      await sync.idle();
      expect(await lastRun(sync, 'stock')).toMatchObject({ ok: true, counts: { deleted: gone } });
      expect(await storage.records.count(creds.consumerKey, 'stock')).toBe(live - gone);
    } finally {
      await sync.stop();
      await storage.close();
    }
  });

  it('a run stopped in its scan resumes there after a restart: no id page listed twice, nothing missed', async () => {
    let storage = await open('resume');
    let sync = service(storage, { pageSize: 25 });
    await sync.start();
    await sync.enqueue(creds.consumerKey, 'products');
    await sync.idle();
    const gone = [await deleteProduct(5), await deleteProduct(sim.catalog.products.length - 3)];
    const live = sim.catalog.products.length;
    const listingsBefore = await idListings();
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/V1/products', latencyMs: 40 }] });
    try {
      const job = await sync.enqueue(creds.consumerKey, 'products', { scanDeletions: true });
      const jobs = storage.documents<SyncJob>('sync_jobs');
      while (((await jobs.get(job.id))?.scan?.requests ?? 0) < 3) await new Promise((r) => setTimeout(r, 20));
      await sync.stop();
      await storage.close();

      storage = await open('resume');
      const interrupted = await storage.documents<SyncJob>('sync_jobs').get(job.id);
      expect(interrupted).toMatchObject({ status: 'running', scanDeletions: true, scan: { done: false } });
      expect(interrupted!.scan!.deleted).toBe(1);
      sync = service(storage, { pageSize: 25 });
      await sync.start();
      await sync.idle();
      const run = await lastRun(sync, 'products');
      expect(run).toMatchObject({ id: job.id, ok: true, counts: { deleted: 2 } });
      for (const id of gone)
        expect((await storage.records.get(creds.consumerKey, 'products', id))?.deletedAt).toEqual(
          expect.any(String),
        );
      expect(await storage.records.count(creds.consumerKey, 'products')).toBe(live);
      // Keyset pages of 25 over the live ids, plus the short last one; the stopped slice may have
      // had one more in flight when it stopped.
      const pages = Math.floor(live / 25) + 1;
      const listed = (await idListings()) - listingsBefore;
      expect(listed).toBeGreaterThanOrEqual(pages);
      expect(listed).toBeLessThanOrEqual(pages + 1);
    } finally {
      await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
      await sync.stop();
      await storage.close();
    }
  });
});
