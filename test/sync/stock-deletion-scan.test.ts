import { beforeAll, describe, expect, it } from '@jest/globals';
import { MagentoClient } from '../../src/magento/client.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { RecordStore } from '../../src/storage/records.js';
import { runDeletionScan, type DeletionScanState } from '../../src/sync/deletion-scan.js';
import { magentoTransport } from '../../src/sync/magento2/channel.js';
import { sourceItemId, stockConnector } from '../../src/sync/magento2/stock.js';
import { runSync } from '../../src/sync/run-sync.js';
import type { Transport } from '../../src/sync/types.js';
import { signedRequest, type Credentials } from '../helpers/oauth-client.js';
import { useRecordAdapters } from '../helpers/record-adapters.js';
import { manualIntegration } from '../helpers/simulator.js';

/**
 * Stock's deletion scan checks the local source items against the store batch by batch (the store
 * cannot list (source_code, sku) in our order), so these tests hold it to the same bar as the id scan:
 * exactly the gone rows are tombstoned, and an answer it cannot trust marks nothing.
 */

const { adapters: ADAPTERS, cleanup } = useRecordAdapters('stock-deletion-scan-');

let storeNumber = 0;

async function syncedStore(
  products: number,
  open: () => Promise<RecordStore>,
): Promise<{ sim: RunningSimulator; transport: Transport; creds: Credentials; records: RecordStore }> {
  const sim = await startSimulator({ port: 0, products, customers: 1, orders: 1, sources: 3 });
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
    storeKey: `stock-store-${++storeNumber}`,
  };
  const records = await open();
  await runSync({ transport, connector: stockConnector, records, since: null, pageSize: 100 });
  return { sim, transport, creds: credentials, records };
}

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
};

/** Counts the store's answers, so a test can tell how many requests a scan made. */
function counting(transport: Transport): Transport & { calls: () => number } {
  let calls = 0;
  return {
    ...transport,
    get: <T>(p: string, query: [string, string][]) => {
      calls++;
      return transport.get<T>(p, query);
    },
    calls: () => calls,
  };
}

describe.each(ADAPTERS)('stock deletion scan over HTTP, $name records', ({ open }) => {
  it('tombstones exactly the source items the store no longer has, with the time, keeping their data', async () => {
    const { sim, transport, creds, records } = await syncedStore(300, open);
    const local = await collect(records.liveIds(transport.storeKey, 'stock'));
    expect(local).toHaveLength(sim.catalog.sourceItems.length);

    // Deleting a product deletes its source items (MSI); the first, one mid-catalog and the last.
    const doomed = [sim.catalog.products[0]!, sim.catalog.products[150]!, sim.catalog.products.at(-1)!];
    const goneIds = sim.catalog.sourceItems
      .filter((i) => doomed.some((p) => p.sku === i.sku))
      .map((i) => sourceItemId(i))
      .sort();
    expect(goneIds.length).toBeGreaterThanOrEqual(3);
    const before = await Promise.all(goneIds.map((id) => records.get(transport.storeKey, 'stock', id)));
    for (const p of doomed) {
      const res = await signedRequest(sim.url, creds, {
        method: 'DELETE',
        path: `/rest/V1/products/${p.sku}`,
      });
      expect(res.status).toBe(200);
    }

    const at = new Date('2026-06-01T12:00:00.000Z');
    const counted = counting(transport);
    const scan = await runDeletionScan({
      transport: counted,
      connector: stockConnector,
      records,
      pageSize: 100,
      now: () => at,
    });
    expect(scan).toMatchObject({
      listed: local.length - goneIds.length,
      deleted: goneIds.length,
      notLocal: 0,
      done: true,
    });
    for (const [i, id] of goneIds.entries())
      expect(await records.get(transport.storeKey, 'stock', id)).toEqual({
        ...before[i],
        deletedAt: at.toISOString(),
      });
    const live = await collect(records.liveIds(transport.storeKey, 'stock'));
    expect(live.sort()).toEqual(sim.catalog.sourceItems.map((i) => sourceItemId(i)).sort());
    // One search per source in each batch of 100 local ids, plus one confirmation per batch that lost rows.
    const batches = Math.ceil(local.length / 100);
    expect(counted.calls()).toBeLessThanOrEqual(batches * 3 + batches);

    // Nothing more is gone: a second scan marks nothing.
    expect(
      (await runDeletionScan({ transport, connector: stockConnector, records, pageSize: 100 })).deleted,
    ).toBe(0);
  });

  it('keeps a source item whose sku holds a comma (asked on its own), and tombstones one once it goes', async () => {
    const { sim, transport, creds, records } = await syncedStore(20, open);
    const save = await signedRequest(sim.url, creds, {
      method: 'POST',
      path: '/rest/V1/inventory/source-items',
      json: { sourceItems: [{ sku: 'kit,red', source_code: 'default', quantity: 3, status: 1 }] },
    });
    expect(save.status).toBe(200);
    await runSync({ transport, connector: stockConnector, records, since: null, pageSize: 100 });
    const comma = sourceItemId({ sku: 'kit,red', source_code: 'default' });
    expect((await records.get(transport.storeKey, 'stock', comma))?.deletedAt).toBeUndefined();

    const first = await runDeletionScan({ transport, connector: stockConnector, records, pageSize: 7 });
    expect(first.deleted).toBe(0);
    expect(first.listed).toBe(sim.catalog.sourceItems.length);

    // The product of another source item goes; the comma sku's row stays.
    const victim = sim.catalog.products[3]!;
    sim.catalog.deleteProduct(victim.sku);
    const second = await runDeletionScan({ transport, connector: stockConnector, records, pageSize: 7 });
    expect(second.deleted).toBeGreaterThan(0);
    expect((await records.get(transport.storeKey, 'stock', comma))?.deletedAt).toBeUndefined();
    for (const id of await collect(records.liveIds(transport.storeKey, 'stock')))
      expect(id.endsWith(`/${victim.sku}`)).toBe(false);
  });

  it('resumes after its checkpoint: the ids before it are not asked again', async () => {
    const { sim, transport, records } = await syncedStore(120, open);
    const checkpoints: DeletionScanState[] = [];
    const stop = new AbortController();
    await expect(
      runDeletionScan({
        transport,
        connector: stockConnector,
        records,
        pageSize: 40,
        signal: stop.signal,
        checkpoint: async (state) => {
          checkpoints.push(structuredClone(state));
          stop.abort();
        },
      }),
    ).rejects.toThrow();
    const resume = checkpoints.at(-1)!;
    expect(resume).toMatchObject({ done: false, listed: 40 });

    // A row before the checkpoint goes now: the resumed scan does not see it; one after it does.
    const local = await collect(records.liveIds(transport.storeKey, 'stock'));
    const early = local[0]!;
    const late = local.at(-1)!;
    for (const id of [early, late]) sim.catalog.deleteProduct(id.slice(id.indexOf('/') + 1));
    // Past the checkpoint: every row of the late product (the early one's other sources too).
    const lateSku = late.slice(late.indexOf('/') + 1);
    const goneLate = local.slice(40).filter((id) => id.endsWith(`/${lateSku}`));
    const asked: string[] = [];
    const watching: Transport = {
      ...transport,
      get: <T>(p: string, query: [string, string][]) => {
        const value = (k: string) => query.find(([q]) => q === k)?.[1] ?? '';
        const source = value('searchCriteria[filter_groups][1][filters][0][value]');
        for (const sku of value('searchCriteria[filter_groups][0][filters][0][value]').split(','))
          asked.push(sourceItemId({ sku, source_code: source }));
        return transport.get<T>(p, query);
      },
    };
    const done = await runDeletionScan({
      transport: watching,
      connector: stockConnector,
      records,
      pageSize: 40,
      resume,
    });
    expect(done.done).toBe(true);
    expect((await records.get(transport.storeKey, 'stock', early))?.deletedAt).toBeUndefined();
    expect(goneLate.length).toBeGreaterThan(0);
    for (const id of goneLate)
      expect((await records.get(transport.storeKey, 'stock', id))?.deletedAt).toEqual(expect.any(String));
    expect(asked.filter((id) => local.slice(0, 40).includes(id))).toEqual([]);
  });
});

describe('stock deletion scan safety', () => {
  let transport: Transport;
  let records: RecordStore;
  let total: number;

  beforeAll(async () => {
    ({ transport, records } = await syncedStore(60, ADAPTERS[0]!.open));
    total = (await collect(records.liveIds(transport.storeKey, 'stock'))).length;
  });

  const liveCount = async () => (await collect(records.liveIds(transport.storeKey, 'stock'))).length;

  it('marks nothing when the store ignores the source filter (rows not asked for come back)', async () => {
    const ignoring: Transport = {
      ...transport,
      get: <T>(p: string, query: [string, string][]) =>
        transport.get<T>(
          p,
          query
            .filter(([k]) => !k.startsWith('searchCriteria[filter_groups][1]'))
            .map(([k, v]) => (k === 'searchCriteria[pageSize]' ? [k, '300'] : [k, v])),
        ),
    };
    await expect(
      runDeletionScan({ transport: ignoring, connector: stockConnector, records, pageSize: 50 }),
    ).rejects.toThrow(/not asked for/);
    expect(await liveCount()).toBe(total);
  });

  it('marks nothing when the store answers a batch with nothing but lists a row when asked alone', async () => {
    const forgetful: Transport = {
      ...transport,
      get: async <T>(p: string, query: [string, string][]) => {
        const value =
          query.find(([k]) => k === 'searchCriteria[filter_groups][0][filters][0][value]')?.[1] ?? '';
        if (value.includes(',')) return { items: [], total_count: 0 } as T;
        return transport.get<T>(p, query);
      },
    };
    await expect(
      runDeletionScan({ transport: forgetful, connector: stockConnector, records, pageSize: 50 }),
    ).rejects.toThrow(/lists it when asked alone/);
    expect(await liveCount()).toBe(total);
  });

  it('marks nothing when the store counts more rows than it lists, or sends no items list', async () => {
    const short: Transport = {
      ...transport,
      get: async <T>(p: string, query: [string, string][]) => {
        const answer = await transport.get<{ items: unknown[]; total_count: number }>(p, query);
        return { ...answer, items: answer.items.slice(0, 1) } as T;
      },
    };
    await expect(
      runDeletionScan({ transport: short, connector: stockConnector, records, pageSize: 50 }),
    ).rejects.toThrow(/no full items list/);
    const none: Transport = { ...transport, get: async <T>() => ({ total_count: 0 }) as T };
    await expect(
      runDeletionScan({ transport: none, connector: stockConnector, records, pageSize: 50 }),
    ).rejects.toThrow(/no full items list/);
    expect(await liveCount()).toBe(total);
  });
});
