import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createEmbeddedStorage } from '../../src/storage/embedded/embedded-storage.js';
import { hashRecordData } from '../../src/storage/records.js';
import { createPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import type { Storage } from '../../src/storage/types.js';
import { customerImport } from '../../src/sync/import-export/customer-import.js';
import { importRows, type ImportRequest } from '../../src/sync/import-export/import.js';
import { productImport } from '../../src/sync/import-export/product-import.js';
import { createTestDatabase } from '../helpers/postgres.js';

/**
 * The import reads local records (a scan for products, one read per row for customers) and writes the
 * store's answers back: the same on both storages.
 */

const key = Buffer.alloc(32, 9);
const STORE = 'importadapterstorekey0123456789a';

const adapters: [string, () => Promise<{ storage: Storage; teardown: () => Promise<void> }>][] = [
  [
    'embedded',
    async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'import-adapter-'));
      const storage = await createEmbeddedStorage({ dataDir: dir, key });
      return {
        storage,
        teardown: async () => {
          await storage.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      const storage = await createPostgresStorage({ url: db.url, key });
      return {
        storage,
        teardown: async () => {
          await storage.close();
          await db.drop();
        },
      };
    },
  ],
];

/** 1,500 products over two of the file store's shards, and 3 customers. */
const products = Array.from({ length: 1500 }, (_, i) => ({
  id: i + 1,
  sku: `SKU-${i + 1}`,
  name: `Product ${i + 1}`,
  price: 10 + i,
  status: 1,
  updated_at: '2026-01-01 00:00:00',
}));
const customers = [1, 2, 3].map((id) => ({
  id,
  email: `c${id}@example.com`,
  firstname: 'Ann',
  lastname: `Lee ${id}`,
  group_id: 1,
  website_id: 1,
  store_id: 1,
  addresses: [],
  updated_at: '2026-01-01 00:00:00',
}));
const asRecords = <T extends { id: number; updated_at: string }>(rows: T[]) =>
  rows.map((data) => ({ id: String(data.id), updatedAt: data.updated_at, hash: hashRecordData(data), data }));

/** Answers with the body's entity, as Magento answers a save. */
function store() {
  const requests: ImportRequest[] = [];
  const send = async (request: ImportRequest) => {
    requests.push(request);
    if (request.method === 'GET') return customers.find((c) => request.path === `V1/customers/${c.id}`);
    const body = request.body as { product?: { sku: string }; customer?: object };
    if (body.customer) return { ...body.customer, updated_at: '2026-05-05 05:05:05' };
    const sku = body.product?.sku as string;
    const current = products.find((p) => p.sku === sku);
    return { ...current, ...body.product, updated_at: '2026-05-05 05:05:05' };
  };
  return { requests, send };
}

describe.each(adapters)('import on the %s storage', (_name, open) => {
  let storage: Storage;
  let teardown: () => Promise<void>;
  beforeAll(async () => {
    ({ storage, teardown } = await open());
    await storage.records.upsert(STORE, 'products', asRecords(products));
    await storage.records.upsert(STORE, 'customers', asRecords(customers));
  }, 30_000);
  afterAll(() => teardown());

  it('products: matched by sku (any case) across shards, sent with the store’s spelling, written back, sent once', async () => {
    const rows: Record<string, string>[] = [
      { sku: 'sku-3', price: '99' },
      { sku: 'SKU-1400', name: 'Product 1400' },
      { sku: 'SKU-1401', name: 'Renamed' },
    ];
    const fake = store();
    const run = () =>
      importRows({
        rows,
        definition: productImport,
        records: storage.records,
        store: STORE,
        dryRun: false,
        send: fake.send,
      });
    expect(await run()).toMatchObject({ sent: 2, unchanged: 1, invalid: 0, failed: 0 });
    expect(fake.requests.map((r) => r.path)).toEqual(['V1/products/SKU-3', 'V1/products/SKU-1401']);
    expect(fake.requests[0]?.body).toEqual({ product: { sku: 'SKU-3', price: 99 } });
    expect(await storage.records.get(STORE, 'products', '1401')).toMatchObject({
      updatedAt: '2026-05-05 05:05:05',
      data: { name: 'Renamed' },
    });
    expect(await run()).toMatchObject({ sent: 0, unchanged: 3 });
    expect(fake.requests).toHaveLength(2);
  });

  it('customers: read by id, written back, sent once; a customer never synced is not sent', async () => {
    const rows: Record<string, string>[] = [
      { id: '2', email: 'c2@example.com', firstname: 'Ann', lastname: 'Changed' },
      { id: '3', email: 'c3@example.com', firstname: 'Ann', lastname: 'Lee 3' },
      { id: '4', email: 'c4@example.com', firstname: 'Ann', lastname: 'Lee 4' },
    ];
    const fake = store();
    const run = () =>
      importRows({
        rows,
        definition: customerImport,
        records: storage.records,
        store: STORE,
        dryRun: false,
        send: fake.send,
      });
    expect(await run()).toMatchObject({ sent: 1, unchanged: 1, invalid: 1 });
    // The store's customer is read just before its PUT.
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET V1/customers/2',
      'PUT V1/customers/2',
    ]);
    expect((await storage.records.get(STORE, 'customers', '2'))?.data).toMatchObject({ lastname: 'Changed' });
    expect(await run()).toMatchObject({ sent: 0, unchanged: 2, invalid: 1 });
    expect(fake.requests).toHaveLength(2);
  });
});
