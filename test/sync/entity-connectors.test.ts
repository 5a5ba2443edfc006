import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { MagentoClient } from '../../src/magento/client.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { createFileRecordStore } from '../../src/storage/file-record-store.js';
import { openStorage } from '../../src/storage/open.js';
import { PassThrough } from 'node:stream';
import { parseCsv } from '../../src/sync/import-export/csv.js';
import { exportRecords } from '../../src/sync/import-export/export.js';
import { connectorFor } from '../../src/sync/registry.js';
import { MAGENTO2_ENTITIES, magentoTransport } from '../../src/sync/magento2/channel.js';
import { sourceItemId, stockConnector } from '../../src/sync/magento2/stock.js';
import { runSync, type SyncCheckpoint } from '../../src/sync/run-sync.js';
import { SyncService } from '../../src/sync/sync-service.js';
import type { Transport } from '../../src/sync/types.js';
import { adminJson } from '../helpers/http.js';
import { manualIntegration } from '../helpers/simulator.js';

const NEW_ENTITIES = ['customer_groups', 'shipments', 'categories', 'stock'];
let sim: RunningSimulator;
let dir: string;
let client: MagentoClient;
let transport: Transport;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    products: 230,
    customers: 20,
    orders: 120,
    categories: 30,
    sources: 3,
  });
  dir = await mkdtemp(path.join(tmpdir(), 'entity-sync-'));
  const { credentials } = await manualIntegration(sim.url, 'all');
  client = new MagentoClient({
    storeBaseUrl: `${sim.url}/`,
    credentials,
    retry: { limit: 1, baseDelayMs: 5 },
  });
  transport = magentoTransport(credentials.consumerKey, client);
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

const stockRequests = async () =>
  (await adminJson<{ url: string }[]>(sim.url, 'GET', '/oauth-log?outcome=verified')).body.filter((e) =>
    e.url.startsWith('/rest/V1/inventory/source-items?'),
  ).length;

/** Changes the quantity of the nth source items (in scan order) through the store's own REST write. */
async function changeStock(indexes: number[]): Promise<string[]> {
  const rows = indexes.map(
    (i) => sim.catalog.sourceItems[i] as { sku: string; source_code: string; quantity: number },
  );
  await client.post('V1/inventory/source-items', {
    sourceItems: rows.map((r) => ({ ...r, quantity: r.quantity + 7, status: 1 })),
  });
  return rows.map(sourceItemId);
}

describe('the new connectors', () => {
  it('are registered in the channel; only the entities without updated_at are full scans', () => {
    expect(MAGENTO2_ENTITIES).toEqual(['products', 'customers', 'orders', ...NEW_ENTITIES]);
    expect(NEW_ENTITIES.map((e) => Boolean(connectorFor('magento2', e).fullScan))).toEqual([
      true,
      false,
      false,
      true,
    ]);
  });

  it('sync every row through the job queue over HTTP, then run full scans again and the others incrementally', async () => {
    const { storage } = await openStorage({
      dataDir: path.join(dir, 'service'),
      envKey: undefined,
      production: false,
    });
    const records = createFileRecordStore(path.join(dir, 'service', 'records'));
    const sync = new SyncService({
      storage,
      records,
      transportFor: async () => transport,
      entities: NEW_ENTITIES,
      logger: pino({ level: 'silent' }),
      pageSize: 50,
    });
    try {
      await sync.start();
      await sync.enqueueStore(transport.storeKey);
      await sync.idle();
      const runs = await sync.listRuns(transport.storeKey);
      const expected = {
        customer_groups: sim.catalog.customerGroups.length,
        shipments: sim.catalog.shipments.length,
        categories: sim.catalog.categories.length,
        stock: sim.catalog.sourceItems.length,
      };
      for (const entity of NEW_ENTITIES) {
        const run = runs.find((r) => r.entity === entity);
        expect(run).toMatchObject({
          ok: true,
          mode: entity === 'stock' || entity === 'customer_groups' ? 'full' : 'initial',
        });
        expect(run?.counts.created).toBe(expected[entity as keyof typeof expected]);
        expect(await records.count(transport.storeKey, entity)).toBe(
          expected[entity as keyof typeof expected],
        );
      }
      const shipment = sim.catalog.shipments[4];
      expect(
        (await records.get(transport.storeKey, 'shipments', String(shipment?.entity_id)))?.data,
      ).toMatchObject({
        order_id: shipment?.order_id,
        updated_at: shipment?.updated_at,
      });
      const item = sim.catalog.sourceItems.at(-1) as { sku: string; source_code: string; quantity: number };
      expect((await records.get(transport.storeKey, 'stock', sourceItemId(item)))?.data).toEqual({ ...item });
      expect((await records.get(transport.storeKey, 'customer_groups', '2'))?.data).toMatchObject({
        code: 'Wholesale',
      });

      // A second round: stock and groups read everything again (no cursor), the others only what changed.
      const changed = await changeStock([3, 150, sim.catalog.sourceItems.length - 1]);
      for (const entity of NEW_ENTITIES) {
        const job = await sync.enqueue(transport.storeKey, entity);
        expect(job.mode).toBe(connectorFor('magento2', entity).fullScan ? 'full' : 'incremental');
        expect(job.since === null).toBe(Boolean(connectorFor('magento2', entity).fullScan));
      }
      await sync.idle();
      const second = await sync.listRuns(transport.storeKey);
      const stock = second.find((r) => r.entity === 'stock');
      expect(stock?.counts).toEqual({
        read: expected.stock,
        created: 0,
        updated: 3,
        unchanged: expected.stock - 3,
        failed: 0,
      });
      for (const id of changed) {
        const [code, sku] = [decodeURIComponent(id.slice(0, id.indexOf('/'))), id.slice(id.indexOf('/') + 1)];
        expect((await records.get(transport.storeKey, 'stock', id))?.data.quantity).toBe(
          sim.catalog.findSourceItem(code, sku)?.quantity,
        );
      }
      expect(second.find((r) => r.entity === 'customer_groups')?.counts).toMatchObject({
        unchanged: expected.customer_groups,
        updated: 0,
      });
      expect(second.find((r) => r.entity === 'shipments')?.mode).toBe('incremental');
      expect(await sync.alerts()).toEqual([]);
    } finally {
      await sync.stop();
      await records.close();
      await storage.close();
    }
  });
});

describe('stock full scan', () => {
  it('writes only the rows that changed, and a new source item as created', async () => {
    const records = createFileRecordStore(await mkdtemp(path.join(dir, 'stock-')));
    try {
      const scan = () =>
        runSync({ transport, connector: stockConnector, records, since: null, pageSize: 64 });
      const first = await scan();
      const total = sim.catalog.sourceItems.length;
      expect(first.counts).toMatchObject({ read: total, created: total });
      expect(first.mode).toBe('full');
      expect(first.newest).toBeNull();
      await changeStock([0, 64, 65, 200]);
      await client.post('V1/inventory/source-items', {
        sourceItems: [{ sku: 'ZZ/odd sku', source_code: 'us_warehouse', quantity: 3, status: 1 }],
      });
      const second = await scan();
      expect(second.counts).toEqual({
        read: total + 1,
        created: 1,
        updated: 4,
        unchanged: total - 4,
        failed: 0,
      });
      // Exported in id order (source, then sku) with the stock columns.
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      await exportRecords({ records, store: transport.storeKey, entity: 'stock', format: 'csv', out });
      const rows = parseCsv(Buffer.concat(chunks).toString('utf8'));
      expect(rows[0]).toEqual(['sku', 'source_code', 'quantity', 'status']);
      expect(rows.length - 1).toBe(total + 1);
      expect(rows.find((r) => r[0] === 'ZZ/odd sku')).toEqual(['ZZ/odd sku', 'us_warehouse', '3', '1']);
      expect((await records.get(transport.storeKey, 'stock', 'us_warehouse/ZZ/odd sku'))?.data).toMatchObject(
        { quantity: 3 },
      );
      expect(await records.count(transport.storeKey, 'stock')).toBe(total + 1);
    } finally {
      await records.close();
    }
  });

  it('killed mid-scan, resumes from its checkpoint without reading a page twice', async () => {
    const records = createFileRecordStore(await mkdtemp(path.join(dir, 'resume-')));
    try {
      const total = sim.catalog.sourceItems.length;
      const pages = Math.ceil(total / 40);
      let saved: SyncCheckpoint | undefined;
      const abort = new AbortController();
      const before = await stockRequests();
      await expect(
        runSync({
          transport,
          connector: stockConnector,
          records,
          since: null,
          pageSize: 40,
          signal: abort.signal,
          checkpoint: async (state) => {
            saved = structuredClone(state);
            if (state.page === 3) abort.abort();
          },
        }),
      ).rejects.toThrow();
      expect(saved).toMatchObject({ mode: 'full', page: 3, counts: { read: 120, created: 120 } });
      expect(await records.count(transport.storeKey, 'stock')).toBe(120);
      // The page fetched ahead of the abort is never used; the resumed run starts at page 4.
      const afterKill = await stockRequests();
      const resumed = await runSync({
        transport,
        connector: stockConnector,
        records,
        since: null,
        pageSize: 40,
        resume: saved,
      });
      expect(resumed.counts).toEqual({ read: total, created: total, updated: 0, unchanged: 0, failed: 0 });
      expect(resumed.page).toBe(pages);
      expect((await stockRequests()) - afterKill).toBe(pages - 3);
      expect(afterKill - before).toBeLessThanOrEqual(4);
      expect(await records.count(transport.storeKey, 'stock')).toBe(total);
    } finally {
      await records.close();
    }
  });
});
