import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MagentoClient } from '../../src/magento/client.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { createFileRecordStore } from '../../src/storage/file-record-store.js';
import type { RecordStore } from '../../src/storage/records.js';
import { magentoTransport } from '../../src/sync/magento2/channel.js';
import { productsConnector } from '../../src/sync/magento2/connectors.js';
import { minusSeconds } from '../../src/sync/cursor.js';
import { runSync, type SyncCheckpoint } from '../../src/sync/run-sync.js';
import type { Transport } from '../../src/sync/types.js';
import { adminJson } from '../helpers/http.js';
import { manualIntegration } from '../helpers/simulator.js';

const PRODUCTS = 450;
let sim: RunningSimulator;
let dir: string;
let transport: Transport;
const stores: RecordStore[] = [];

async function recordStore(): Promise<RecordStore> {
  const store = createFileRecordStore(await mkdtemp(path.join(dir, 'records-')));
  stores.push(store);
  return store;
}

async function connect(retryLimit = 3): Promise<Transport> {
  const { credentials } = await manualIntegration(sim.url, [
    'Magento_Catalog::products',
    'Magento_Backend::stores',
  ]);
  const client = new MagentoClient({
    storeBaseUrl: `${sim.url}/`,
    credentials,
    retry: { limit: retryLimit, baseDelayMs: 5 },
  });
  return magentoTransport(credentials.consumerKey, client);
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: PRODUCTS, customers: 2, orders: 2 });
  dir = await mkdtemp(path.join(tmpdir(), 'sync-'));
  transport = await connect();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

const productRequests = async () =>
  (
    await adminJson<{ url: string; endpoint: string }[]>(sim.url, 'GET', '/oauth-log?outcome=verified')
  ).body.filter((e) => e.url.startsWith('/rest/V1/products?')).length;

describe('sync runs against the simulator', () => {
  let initial: SyncCheckpoint;
  let records: RecordStore;

  it('an initial load reads every product exactly once across pages', async () => {
    records = await recordStore();
    const before = await productRequests();
    initial = await runSync({ transport, connector: productsConnector, records, since: null, pageSize: 100 });
    expect(initial.counts).toEqual({
      read: PRODUCTS,
      created: PRODUCTS,
      updated: 0,
      unchanged: 0,
      failed: 0,
      deleted: 0,
    });
    expect(initial.requests).toBe(Math.ceil(PRODUCTS / 100));
    expect((await productRequests()) - before).toBe(Math.ceil(PRODUCTS / 100));
    expect(await records.count(transport.storeKey, 'products')).toBe(PRODUCTS);
    const newest = sim.catalog.products.reduce((m, p) => (p.updated_at > m ? p.updated_at : m), '');
    expect(initial.newest).toBe(newest);
  });

  it('an incremental run after 10 changes fetches those and no more', async () => {
    const touched = (await adminJson<{ skus: string[] }>(sim.url, 'POST', '/catalog/touch', { count: 10 }))
      .body.skus;
    expect(touched).toHaveLength(10);
    const run = await runSync({
      transport,
      connector: productsConnector,
      records,
      since: minusSeconds(initial.newest!, 60),
      pageSize: 4,
    });
    // Rows inside the overlap window come back unchanged: nothing is rewritten or counted as new.
    expect(run.counts.updated).toBe(10);
    expect(run.counts.created).toBe(0);
    expect(run.counts.read - run.counts.unchanged).toBe(10);
    for (const sku of touched) {
      const product = sim.catalog.getProduct(sku);
      const local = await records.get(transport.storeKey, 'products', String(product.id));
      expect(local?.data.price).toBe(product.price);
    }
  });

  it('an incremental run keeps a local record newer than the page it read (a webhook got there first)', async () => {
    const touched = (await adminJson<{ skus: string[] }>(sim.url, 'POST', '/catalog/touch', { count: 1 }))
      .body.skus;
    const product = sim.catalog.getProduct(touched[0] as string);
    const id = String(product.id);
    // What a webhook applied a moment after this run's page was read: a later version of the row.
    const later = { ...product, name: 'Applied by a newer event', updated_at: '2999-01-01 00:00:00' };
    await records.upsert(transport.storeKey, 'products', [
      { id, updatedAt: later.updated_at, hash: 'newer', data: later as unknown as Record<string, unknown> },
    ]);
    const run = await runSync({
      transport,
      connector: productsConnector,
      records,
      since: minusSeconds(product.updated_at, 1),
      pageSize: 50,
    });
    expect(run.counts.read).toBeGreaterThanOrEqual(1);
    expect((await records.get(transport.storeKey, 'products', id))?.data.name).toBe(
      'Applied by a newer event',
    );
  });

  it('completes with correct counts through 30% 503s and some 429s', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const faulty = await startSimulator({
      port: 0,
      products: 300,
      customers: 1,
      orders: 1,
      random,
      faults: [{ route: '/rest/V1/products', errorRate: 0.3, rateLimitRate: 0.1, retryAfterSeconds: 0 }],
    });
    try {
      const { credentials } = await manualIntegration(faulty.url, 'all');
      const client = new MagentoClient({
        storeBaseUrl: `${faulty.url}/`,
        credentials,
        retry: { limit: 12, baseDelayMs: 2 },
      });
      const run = await runSync({
        transport: magentoTransport(credentials.consumerKey, client),
        connector: productsConnector,
        records: await recordStore(),
        since: null,
        pageSize: 25,
      });
      expect(run.counts).toEqual({
        read: 300,
        created: 300,
        updated: 0,
        unchanged: 0,
        failed: 0,
        deleted: 0,
      });
      expect(faulty.faults.counters.errors503).toBeGreaterThan(0);
      expect(faulty.faults.counters.errors429).toBeGreaterThan(0);
    } finally {
      await faulty.close();
    }
  });

  it('an initial load asks for the next page while it writes the current one', async () => {
    const log: string[] = [];
    const watched: Transport = {
      ...transport,
      get: (p, query) => {
        log.push(`get ${query.find(([k]) => k === 'searchCriteria[currentPage]')?.[1]}`);
        return transport.get(p, query);
      },
    };
    const store = await recordStore();
    let writes = 0;
    const slowStore: RecordStore = {
      ...store,
      upsert: async (...args) => {
        const n = ++writes;
        log.push(`write ${n}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const outcomes = await store.upsert(...args);
        log.push(`written ${n}`);
        return outcomes;
      },
    };
    const run = await runSync({
      transport: watched,
      connector: productsConnector,
      records: slowStore,
      since: null,
      pageSize: 100,
      checkpoint: async (state) => {
        log.push(`checkpoint ${state.page}`);
      },
    });
    expect(run.counts.created).toBe(PRODUCTS);
    expect(run.requests).toBe(5);
    // Page n+1 is on its way before page n is written; pages are still written and saved in order.
    expect(log).toEqual([
      'get 1',
      'get 2',
      'write 1',
      'written 1',
      'checkpoint 1',
      'get 3',
      'write 2',
      'written 2',
      'checkpoint 2',
      'get 4',
      'write 3',
      'written 3',
      'checkpoint 3',
      'get 5',
      'write 4',
      'written 4',
      'checkpoint 4',
      'write 5',
      'written 5',
      'checkpoint 5',
    ]);
  });

  it('a failed write ends the run with its error; a failed page asked for in advance is dropped', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failing: Transport = {
        ...transport,
        get: (p, query) =>
          query.some(([k, v]) => k === 'searchCriteria[currentPage]' && v === '3')
            ? Promise.reject(new Error('page 3 lost'))
            : transport.get(p, query),
      };
      const store = await recordStore();
      let writes = 0;
      const brokenStore: RecordStore = {
        ...store,
        upsert: async (...args) => {
          if (++writes === 2) throw new Error('disk full');
          return store.upsert(...args);
        },
      };
      let saved: SyncCheckpoint | undefined;
      await expect(
        runSync({
          transport: failing,
          connector: productsConnector,
          records: brokenStore,
          since: null,
          pageSize: 100,
          checkpoint: async (state) => {
            saved = structuredClone(state);
          },
        }),
      ).rejects.toThrow('disk full');
      expect(saved?.page).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a run killed mid-way resumes from its checkpoint without reading a row twice', async () => {
    const store = await recordStore();
    let saved: SyncCheckpoint | undefined;
    const abort = new AbortController();
    await expect(
      runSync({
        transport,
        connector: productsConnector,
        records: store,
        since: null,
        pageSize: 100,
        signal: abort.signal,
        checkpoint: async (state) => {
          saved = structuredClone(state);
          if (state.page === 2) abort.abort();
        },
      }),
    ).rejects.toThrow();
    expect(saved?.counts.read).toBe(200);
    const resumed = await runSync({
      transport,
      connector: productsConnector,
      records: store,
      since: null,
      pageSize: 100,
      resume: saved,
    });
    expect(resumed.counts.read).toBe(PRODUCTS);
    expect(resumed.counts.created).toBe(PRODUCTS);
    expect(await store.count(transport.storeKey, 'products')).toBe(PRODUCTS);
  });
});
