import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import type { SyncRun } from '../../src/sync/sync-service.js';
import { unlinkStore } from '../../src/sync/unlink-store.js';
import { adminJson } from '../helpers/http.js';
import { linkSimulatorStore, linkTestConnector, type TestConnector } from '../helpers/linked-connector.js';
import { waitFor } from '../helpers/webhooks.js';

/** Unlinking while the store's sync is under way: the run stops, and nothing of the store is left after. */
let sim: RunningSimulator;
let t: TestConnector;
let key: string;

beforeAll(async () => {
  ({
    sim,
    t,
    store: key,
  } = await linkTestConnector(
    { products: 600, customers: 1, orders: 1 },
    { SYNC_INTERVALS: '', SYNC_PAGE_SIZE: '20' },
  ));
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

it('stops a running sync, then deletes what it wrote; no page is written after the unlink', async () => {
  const { storage, sync } = t.connector;
  // 30 pages, each answer 60 ms late: the run is still going when the unlink comes.
  await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/V1/products', latencyMs: 60 }] });
  await sync.enqueue(key, 'products');
  await waitFor(async () => (await storage.records.count(key, 'products')) >= 40, 15_000);

  const report = await unlinkStore({ storage, sync }, key);
  expect(report).toMatchObject({ cancelledRuns: 1, unconfirmed: [] });
  expect(report!.records).toBeGreaterThanOrEqual(40);
  expect(report!.records).toBeLessThan(600);
  expect(await storage.records.count(key, 'products')).toBe(0);

  // Several pages' time later: the stopped run wrote nothing more and left no job or run behind.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await sync.idle();
  expect(await storage.records.count(key, 'products')).toBe(0);
  expect(await sync.listJobs(key)).toEqual([]);
  expect(await storage.documents<SyncRun>('sync_runs').list({ storeKey: key })).toEqual([]);
  expect(await storage.integrations.get(key)).toBeUndefined();
  await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
});

it('an unlink that stops waiting leaves no job or run behind when the slice ends later', async () => {
  const { storage, sync } = t.connector;
  const other = await linkSimulatorStore(storage, sim);
  await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/V1/products', latencyMs: 60 }] });
  await sync.enqueue(other, 'products');
  await waitFor(async () => (await storage.records.count(other, 'products')) >= 40, 15_000);

  // Not waiting at all: the slice is still on its page when the store's jobs are deleted.
  const report = await unlinkStore({ storage, sync }, other, { waitMs: 0 });
  expect(report?.unconfirmed).toEqual(['products']);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await sync.idle();
  // Its next checkpoint found the job gone: nothing written back, no run recorded, no further page.
  expect(await sync.listJobs(other)).toEqual([]);
  expect(await storage.documents<SyncRun>('sync_runs').list({ storeKey: other })).toEqual([]);
  expect(await storage.records.count(other, 'products')).toBeLessThanOrEqual(20);
  await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
});
