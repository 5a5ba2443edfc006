import { beforeAll, describe, expect, it } from '@jest/globals';
import { MagentoClient } from '../../src/magento/client.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { hashRecordData, type LocalRecord, type RecordStore } from '../../src/storage/records.js';
import { runDeletionScan, type DeletionScanState } from '../../src/sync/deletion-scan.js';
import { magentoTransport } from '../../src/sync/magento2/channel.js';
import {
  customersConnector,
  ordersConnector,
  productsConnector,
} from '../../src/sync/magento2/connectors.js';
import { minusSeconds } from '../../src/sync/cursor.js';
import { runSync } from '../../src/sync/run-sync.js';
import type { Transport } from '../../src/sync/types.js';
import { adminJson } from '../helpers/http.js';
import { signedRequest, type Credentials } from '../helpers/oauth-client.js';
import { useRecordAdapters } from '../helpers/record-adapters.js';
import { manualIntegration } from '../helpers/simulator.js';

const { adapters: ADAPTERS, cleanup } = useRecordAdapters('deletion-scan-');

let storeNumber = 0;

async function simulatorWithTransport(
  products: number,
  extra: { customers?: number; orders?: number } = {},
): Promise<{ sim: RunningSimulator; transport: Transport; creds: Credentials }> {
  const sim = await startSimulator({
    port: 0,
    products,
    customers: extra.customers ?? 2,
    orders: extra.orders ?? 2,
  });
  cleanup(() => sim.close());
  const { credentials } = await manualIntegration(sim.url, 'all');
  const client = new MagentoClient({
    storeBaseUrl: `${sim.url}/`,
    credentials,
    retry: { limit: 2, baseDelayMs: 5 },
  });
  // A store key per test: the PostgreSQL adapter shares one table.
  const transport = {
    ...magentoTransport(credentials.consumerKey, client),
    storeKey: `store-${++storeNumber}`,
  };
  return { sim, transport, creds: credentials };
}

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
};

describe.each(ADAPTERS)('deletion scan over HTTP, $name records', ({ open }) => {
  const PRODUCTS = 250;
  let sim: RunningSimulator;
  let transport: Transport;
  let creds: Credentials;
  let records: RecordStore;
  let newest: string | null;

  beforeAll(async () => {
    ({ sim, transport, creds } = await simulatorWithTransport(PRODUCTS, { customers: 12, orders: 12 }));
    records = await open();
    for (const connector of [productsConnector, customersConnector, ordersConnector]) {
      const run = await runSync({ transport, connector, records, since: null, pageSize: 100 });
      if (connector === productsConnector) newest = run.newest;
    }
  });

  const deleteProduct = async (sku: string) => {
    const res = await signedRequest(sim.url, creds, { method: 'DELETE', path: `/rest/V1/products/${sku}` });
    expect(res.status).toBe(200);
  };

  it('tombstones exactly the products deleted in the store, with the time, and keeps their data', async () => {
    // The first, one on each side of a page boundary, and the last.
    const ids = [1, 100, 101, PRODUCTS];
    const before = await Promise.all(
      ids.map((id) => records.get(transport.storeKey, 'products', String(id))),
    );
    for (const id of ids) await deleteProduct(sim.catalog.products.find((p) => p.id === id)!.sku);
    const at = new Date('2026-06-01T12:00:00.000Z');
    const scan = await runDeletionScan({
      transport,
      connector: productsConnector,
      records,
      pageSize: 100,
      now: () => at,
    });
    expect(scan).toEqual({
      // The last full page ends at 203 (two ids of the first page are gone, so it reaches 103).
      after: '203',
      listed: PRODUCTS - ids.length,
      deleted: ids.length,
      notLocal: 0,
      requests: 3,
      done: true,
    });
    expect(await records.count(transport.storeKey, 'products')).toBe(PRODUCTS - ids.length);
    for (const [i, id] of ids.entries()) {
      expect(await records.get(transport.storeKey, 'products', String(id))).toEqual({
        ...before[i],
        deletedAt: at.toISOString(),
      });
    }
    const live = await collect(records.liveIds(transport.storeKey, 'products'));
    expect(live).toEqual(sim.catalog.products.map((p) => String(p.id)));
    // A second scan finds nothing new.
    expect(
      (await runDeletionScan({ transport, connector: productsConnector, records, pageSize: 100 })).deleted,
    ).toBe(0);
  });

  it('asks the store for ids only, by keyset, so a row deleted mid-scan makes no other row look deleted', async () => {
    const seen: { query: Record<string, string>; items: number }[] = [];
    const fiftieth = String(sim.catalog.products[49]!.id);
    let deletedMidScan: string | undefined;
    const watching: Transport = {
      ...transport,
      get: async <T>(p: string, query: [string, string][]) => {
        const answer = await transport.get<{ items: unknown[] | null }>(p, query);
        seen.push({ query: Object.fromEntries(query), items: answer.items?.length ?? 0 });
        // After the first page, an early product goes: page numbers would now skip a live id.
        if (seen.length === 1) {
          const early = sim.catalog.products[3]!;
          deletedMidScan = String(early.id);
          await deleteProduct(early.sku);
        }
        return answer as T;
      },
    };
    const scan = await runDeletionScan({
      transport: watching,
      connector: productsConnector,
      records,
      pageSize: 50,
    });
    expect(scan.deleted).toBe(0);
    expect(await records.get(transport.storeKey, 'products', deletedMidScan!)).not.toHaveProperty(
      'deletedAt',
    );
    expect(seen[0]!.query).toMatchObject({
      fields: 'items[id],total_count',
      'searchCriteria[currentPage]': '1',
    });
    expect(seen[1]!.query).toMatchObject({
      'searchCriteria[filter_groups][0][filters][0][field]': 'entity_id',
      'searchCriteria[filter_groups][0][filters][0][condition_type]': 'gt',
      'searchCriteria[filter_groups][0][filters][0][value]': fiftieth,
      'searchCriteria[sortOrders][0][field]': 'entity_id',
      'searchCriteria[currentPage]': '1',
    });
    // The next scan sees it.
    expect(
      (await runDeletionScan({ transport, connector: productsConnector, records, pageSize: 50 })).deleted,
    ).toBe(1);
  });

  it('a row that comes back is live again at its next upsert; the scan counts it as not local till then', async () => {
    await runDeletionScan({ transport, connector: productsConnector, records, pageSize: 100 });
    const product = sim.catalog.products[10]!;
    const id = String(product.id);
    await records.markDeleted(transport.storeKey, 'products', [id], new Date().toISOString());
    const liveBefore = await records.count(transport.storeKey, 'products');
    const scan = await runDeletionScan({ transport, connector: productsConnector, records, pageSize: 100 });
    expect(scan).toMatchObject({ deleted: 0, notLocal: 1 });
    // Changed again in the store: the incremental run brings it back.
    await signedRequest(sim.url, creds, {
      method: 'PUT',
      path: `/rest/V1/products/${product.sku}`,
      json: { product: { price: 1234.5 } },
    });
    const run = await runSync({
      transport,
      connector: productsConnector,
      records,
      since: minusSeconds(newest!, 60),
      pageSize: 100,
    });
    expect(run.counts.updated).toBeGreaterThanOrEqual(1);
    const back = await records.get(transport.storeKey, 'products', id);
    expect(back?.deletedAt).toBeUndefined();
    expect(back?.data.price).toBe(1234.5);
    expect(await records.count(transport.storeKey, 'products')).toBe(liveBefore + 1);
  });

  it('a product re-created with a deleted sku is a new live record; the old id stays a tombstone', async () => {
    const old = sim.catalog.products[20]!;
    const { sku } = old;
    await deleteProduct(sku);
    await runDeletionScan({ transport, connector: productsConnector, records, pageSize: 100 });
    const created = await signedRequest(sim.url, creds, {
      method: 'POST',
      path: '/rest/V1/products',
      json: { product: { sku, name: 'Back again', price: 5, attribute_set_id: 4, type_id: 'simple' } },
    });
    const fresh = JSON.parse(created.body) as { id: number };
    expect(fresh.id).not.toBe(old.id);
    await runSync({
      transport,
      connector: productsConnector,
      records,
      since: minusSeconds(newest!, 60),
      pageSize: 100,
    });
    expect(await records.get(transport.storeKey, 'products', String(fresh.id))).toMatchObject({
      data: { sku },
    });
    expect((await records.get(transport.storeKey, 'products', String(fresh.id)))?.deletedAt).toBeUndefined();
    expect((await records.get(transport.storeKey, 'products', String(old.id)))?.deletedAt).toEqual(
      expect.any(String),
    );
  });

  it('finds deleted customers and orders (deleted in the store admin)', async () => {
    const customer = sim.catalog.customers[5]!.id;
    const order = sim.catalog.orders[11]!.entity_id;
    expect((await adminJson(sim.url, 'DELETE', `/customers/${customer}`)).status).toBe(204);
    expect((await adminJson(sim.url, 'DELETE', `/orders/${order}`)).status).toBe(204);
    const customers = await runDeletionScan({
      transport,
      connector: customersConnector,
      records,
      pageSize: 5,
    });
    const orders = await runDeletionScan({ transport, connector: ordersConnector, records, pageSize: 5 });
    expect([customers.deleted, orders.deleted]).toEqual([1, 1]);
    expect(await records.count(transport.storeKey, 'customers')).toBe(11);
    expect((await records.get(transport.storeKey, 'orders', String(order)))?.deletedAt).toEqual(
      expect.any(String),
    );
  });

  it('resumes after its checkpoint without listing a page twice', async () => {
    const victims = [sim.catalog.products[30]!, sim.catalog.products[150]!];
    for (const p of victims) await deleteProduct(p.sku);
    let saved: DeletionScanState | undefined;
    const abort = new AbortController();
    await expect(
      runDeletionScan({
        transport,
        connector: productsConnector,
        records,
        pageSize: 100,
        signal: abort.signal,
        checkpoint: async (state) => {
          saved = structuredClone(state);
          abort.abort();
        },
      }),
    ).rejects.toThrow();
    expect(saved).toMatchObject({ requests: 1, deleted: 1, done: false });
    const finished = await runDeletionScan({
      transport,
      connector: productsConnector,
      records,
      pageSize: 100,
      resume: saved!,
    });
    expect(finished).toMatchObject({ deleted: 2, done: true });
    expect(finished.requests).toBe(
      Math.ceil(sim.catalog.products.length / 100) + (sim.catalog.products.length % 100 === 0 ? 1 : 0),
    );
    for (const p of victims)
      expect((await records.get(transport.storeKey, 'products', String(p.id)))?.deletedAt).toEqual(
        expect.any(String),
      );
  });
});

describe('deletion scan safety', () => {
  let sim: RunningSimulator;
  let transport: Transport;
  let records: RecordStore;
  const local = (n: number): LocalRecord[] =>
    Array.from({ length: n }, (_, i) => {
      const data = { id: i + 1 };
      return { id: String(i + 1), updatedAt: '2026-01-01 00:00:00', hash: hashRecordData(data), data };
    });

  beforeAll(async () => {
    ({ sim, transport } = await simulatorWithTransport(40));
    records = await ADAPTERS[0]!.open();
    await records.upsert(transport.storeKey, 'products', local(40));
  });

  it('marks nothing when the store answers without an items list (fields refused or ignored)', async () => {
    const broken: Transport = { ...transport, get: async <T>() => [] as T };
    await expect(
      runDeletionScan({ transport: broken, connector: productsConnector, records }),
    ).rejects.toThrow(/no items and total_count/);
    expect(await records.count(transport.storeKey, 'products')).toBe(40);
  });

  it('marks nothing when the store ignores the keyset filter and repeats the first page', async () => {
    const ignoring: Transport = {
      ...transport,
      get: <T>(p: string, query: [string, string][]) =>
        transport.get<T>(
          p,
          query.filter(([k]) => !k.startsWith('searchCriteria[filter_groups]')),
        ),
    };
    await expect(
      runDeletionScan({ transport: ignoring, connector: productsConnector, records, pageSize: 10 }),
    ).rejects.toThrow(/ascending order/);
    expect(await records.count(transport.storeKey, 'products')).toBe(40);
  });

  it('stops when the store lists fewer ids than it counts', async () => {
    const short: Transport = {
      ...transport,
      get: async <T>(p: string, query: [string, string][]) => {
        const answer = await transport.get<{ items: unknown[]; total_count: number }>(p, query);
        return { ...answer, items: answer.items.slice(0, 3) } as T;
      },
    };
    await expect(
      runDeletionScan({ transport: short, connector: productsConnector, records, pageSize: 10 }),
    ).rejects.toThrow(/counts 40 ids but listed 3/);
    expect(await records.count(transport.storeKey, 'products')).toBe(40);
    expect(sim.catalog.products).toHaveLength(40);
  });
});

// 20,000 rows: forty times a batch, enough to show what is held does not grow with the catalog.
describe.each(ADAPTERS)('deletion scan on a 20,000-product catalog, $name records', ({ open }) => {
  const SIZE = 20_000;
  const PAGE = 1_000;
  const BATCH = 500;

  it('holds one page of store ids, one local id ahead and at most a batch of tombstones', async () => {
    const { sim, transport } = await simulatorWithTransport(SIZE);
    const inner = await open();
    // Local records as a sync would leave them (small data: the scan reads ids only).
    for (let from = 0; from < SIZE; from += 10_000) {
      await inner.upsert(
        transport.storeKey,
        'products',
        Array.from({ length: 10_000 }, (_, i) => {
          const data = { id: from + i + 1 };
          return {
            id: String(from + i + 1),
            updatedAt: '2026-01-01 00:00:00',
            hash: hashRecordData(data),
            data,
          };
        }),
      );
    }
    // Every 37th product goes, and a run of 1,200 in a row (more than a batch and a page).
    const doomed = new Set<number>();
    for (let id = 37; id <= SIZE; id += 37) doomed.add(id);
    for (let id = 10_001; id <= 11_200; id++) doomed.add(id);
    const skus = new Map(sim.catalog.products.map((p) => [p.id, p.sku]));
    for (const id of doomed) sim.catalog.deleteProduct(skus.get(id)!);

    // What the scan has taken from each side and not yet let go of, watched from outside it: a local
    // id is settled once the store listed it (kept) or it was tombstoned.
    const servedAll = new Set<string>();
    const unsettled = new Set<string>();
    let served = 0;
    let pulled = 0;
    let largestBatch = 0;
    let mostHeld = 0;
    const note = () => (mostHeld = Math.max(mostHeld, unsettled.size));
    const records: RecordStore = {
      ...inner,
      async *liveIds(store, entity, after) {
        for await (const id of inner.liveIds(store, entity, after)) {
          pulled++;
          if (!servedAll.has(id)) unsettled.add(id);
          note();
          yield id;
        }
      },
      async markDeleted(store, entity, ids, at) {
        largestBatch = Math.max(largestBatch, ids.length);
        for (const id of ids) expect(unsettled.delete(id)).toBe(true);
        return inner.markDeleted(store, entity, ids, at);
      },
    };
    const watched: Transport = {
      ...transport,
      get: async <T>(p: string, query: [string, string][]) => {
        expect(unsettled.size).toBeLessThanOrEqual(BATCH + 1);
        const answer = await transport.get<{ items: { id: number }[] | null }>(p, query);
        const items = answer.items ?? [];
        expect(items.length).toBeLessThanOrEqual(PAGE);
        // Ids only: nothing else of the rows crossed the wire.
        expect(items.every((item) => Object.keys(item).join() === 'id')).toBe(true);
        for (const item of items) {
          servedAll.add(String(item.id));
          unsettled.delete(String(item.id));
        }
        served += items.length;
        return answer as T;
      },
    };
    const scan = await runDeletionScan({
      transport: watched,
      connector: productsConnector,
      records,
      pageSize: PAGE,
      batchSize: BATCH,
    });
    expect(scan).toMatchObject({ listed: SIZE - doomed.size, deleted: doomed.size, notLocal: 0, done: true });
    expect(served).toBe(SIZE - doomed.size);
    expect(pulled).toBe(SIZE);
    expect(largestBatch).toBeLessThanOrEqual(BATCH);
    expect(mostHeld).toBeLessThanOrEqual(BATCH + 1);
    expect(await inner.count(transport.storeKey, 'products')).toBe(SIZE - doomed.size);
    for (const id of [37, 10_001, 11_200, 19_980])
      expect((await inner.get(transport.storeKey, 'products', String(id)))?.deletedAt).toEqual(
        expect.any(String),
      );
    expect((await inner.get(transport.storeKey, 'products', '11201'))?.deletedAt).toBeUndefined();
  }, 120_000);
});
