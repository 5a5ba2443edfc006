import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createFileRecordStore } from '../../src/storage/file-record-store.js';
import { hashRecordData, type RecordStore } from '../../src/storage/records.js';
import { parseCsv } from '../../src/sync/import-export/csv.js';
import { EXPORT_COLUMNS, exportRecords } from '../../src/sync/import-export/export.js';
import { customerImport } from '../../src/sync/import-export/customer-import.js';
import {
  formatProblem,
  importRows,
  rowsFromJson,
  summarise,
  type ImportOptions,
  type ImportRequest,
} from '../../src/sync/import-export/import.js';
import { checkProductRow, productImport } from '../../src/sync/import-export/product-import.js';

const STORE = 'abcdefghijklmnopqrstuvwxyz012345';
let dir: string;
let records: RecordStore;

const products = [
  { id: 1, sku: 'P-1', name: 'Plain', price: 10, status: 1, visibility: 4, type_id: 'simple', weight: 1.5 },
  {
    id: 2,
    sku: 'P-2',
    name: 'Comma, "quoted"\nand a line break',
    price: 0,
    status: 2,
    visibility: 1,
    type_id: 'virtual',
  },
  {
    id: 1000,
    sku: 'P-1000',
    name: 'Ünïcödé 日本語 🧪',
    price: 99.99,
    status: 1,
    visibility: 2,
    type_id: 'simple',
    weight: 0,
  },
].map((p) => ({
  ...p,
  updated_at: '2026-01-02 03:04:05',
  custom_attributes: [{ attribute_code: 'x', value: 'y' }],
}));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'import-export-'));
  records = createFileRecordStore(dir);
  await records.upsert(
    STORE,
    'products',
    products.map((p) => ({ id: String(p.id), updatedAt: p.updated_at, hash: hashRecordData(p), data: p })),
  );
});
afterAll(async () => {
  await records.close();
  await rm(dir, { recursive: true, force: true });
});

/** A sink that takes one small chunk at a time, so the export has to wait for 'drain'. */
function slowSink(): { out: Writable; text: () => string; writes: () => number } {
  const chunks: string[] = [];
  const out = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      setImmediate(done);
    },
  });
  return { out, text: () => chunks.join(''), writes: () => chunks.length };
}

describe('exportRecords', () => {
  it('writes a JSON array of the records’ data in id order', async () => {
    const sink = slowSink();
    const progress: [number, number][] = [];
    const result = await exportRecords({
      records,
      store: STORE,
      entity: 'products',
      format: 'json',
      out: sink.out,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(result).toEqual({ rows: 3 });
    expect(JSON.parse(sink.text())).toEqual(products);
    expect(progress).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it('writes CSV with the fixed header and RFC 4180 quoting', async () => {
    const sink = slowSink();
    await exportRecords({ records, store: STORE, entity: 'products', format: 'csv', out: sink.out });
    const text = sink.text();
    expect(text.startsWith('sku,name,price,status,visibility,type_id,weight,updated_at\r\n')).toBe(true);
    expect(text).toContain(
      'P-2,"Comma, ""quoted""\nand a line break",0,2,1,virtual,,2026-01-02 03:04:05\r\n',
    );
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...EXPORT_COLUMNS.products]);
    expect(rows.slice(1).map((r) => r[1])).toEqual(products.map((p) => p.name));
    expect(rows.slice(1).map((r) => r[6])).toEqual(['1.5', '', '0']);
  });

  it('writes an empty array, or only the header, when nothing was synced', async () => {
    const json = slowSink();
    expect(
      await exportRecords({ records, store: STORE, entity: 'orders', format: 'json', out: json.out }),
    ).toEqual({
      rows: 0,
    });
    expect(JSON.parse(json.text())).toEqual([]);
    const csv = slowSink();
    await exportRecords({ records, store: STORE, entity: 'customers', format: 'csv', out: csv.out });
    expect(csv.text()).toBe('id,email,firstname,lastname,group_id,website_id,store_id,updated_at\r\n');
  });

  it('rejects when the output fails', async () => {
    const out = new Writable({
      write(_chunk, _encoding, done) {
        done(new Error('disk full'));
      },
    });
    await expect(
      exportRecords({ records, store: STORE, entity: 'products', format: 'csv', out }),
    ).rejects.toThrow('disk full');
  });
});

/**
 * The engine on its own: `send` plays a store that applies the body and answers the whole entity, as
 * Magento does. The same flows over real HTTP are in import-cli.test.ts.
 */
describe('importRows', () => {
  let n = 0;
  /** A store key of its own, with the three products synced. */
  async function syncedStore(): Promise<string> {
    const store = `store${++n}`.padEnd(32, 'x');
    await records.upsert(
      store,
      'products',
      products.map((p) => ({ id: String(p.id), updatedAt: p.updated_at, hash: hashRecordData(p), data: p })),
    );
    return store;
  }

  function fakeStore() {
    const bySku = new Map(products.map((p) => [p.sku.toLowerCase(), structuredClone(p)]));
    const requests: ImportRequest[] = [];
    const send = async (request: ImportRequest) => {
      requests.push(request);
      const sku = decodeURIComponent(request.path.split('/')[2] as string);
      const product = bySku.get(sku.toLowerCase());
      if (!product) throw new Error("The product that was requested doesn't exist.");
      Object.assign(product, (request.body as { product: object }).product, {
        updated_at: '2026-02-03 04:05:06',
      });
      return structuredClone(product);
    };
    return { send, requests };
  }

  const run = (store: string, rows: Record<string, string>[], extra: Partial<ImportOptions> = {}) =>
    importRows({
      rows,
      definition: productImport,
      records,
      store,
      dryRun: false,
      send: fakeStore().send,
      ...extra,
    });

  const rows = [
    { sku: 'P-1', name: 'New name', price: '12.50', status: '', visibility: '' },
    { sku: '', name: 'no sku', price: '1', status: '', visibility: '' },
    { sku: 'B', name: '', price: '-1', status: '3', visibility: '0' },
    { sku: 'C', name: 'x'.repeat(256), price: 'abc', status: '1', visibility: '4' },
    { sku: 'p-2', name: '', price: '', status: '2', visibility: '1' },
    { sku: 'P-1000', name: '', price: '99.99', status: '2', visibility: '' },
    { sku: 'p-1', name: '', price: '3', status: '', visibility: '' },
  ];

  it('reports exactly the invalid rows and sends only the fields that differ from the local record', async () => {
    const store = await syncedStore();
    const fake = fakeStore();
    const report = await run(store, rows, { send: fake.send });
    expect(fake.requests).toEqual([
      {
        method: 'PUT',
        path: 'V1/products/P-1',
        body: { product: { sku: 'P-1', name: 'New name', price: 12.5 } },
      },
      // The price is the store's already: only the status goes.
      { method: 'PUT', path: 'V1/products/P-1000', body: { product: { sku: 'P-1000', status: 2 } } },
    ]);
    expect(report).toMatchObject({
      total: 7,
      changed: 2,
      sent: 2,
      unchanged: 1,
      invalid: 4,
      failed: 0,
      held: 0,
    });
    expect(report.problems).toEqual([
      { row: 2, kind: 'invalid', errors: ['sku is required'] },
      {
        row: 3,
        label: 'sku B',
        kind: 'invalid',
        errors: [
          'price must be a non-negative number',
          'status must be 1 (enabled) or 2 (disabled)',
          'visibility must be 1, 2, 3 or 4 (not visible individually, catalog, search, both)',
        ],
      },
      {
        row: 4,
        label: 'sku C',
        kind: 'invalid',
        errors: ['name must be at most 255 characters (has 256)', 'price must be a non-negative number'],
      },
      { row: 7, label: 'sku p-1', kind: 'invalid', errors: ['sku p-1 is already in row 1'] },
    ]);
    expect(report.problems.flatMap(formatProblem)).toContain(
      'row 3 (sku B): price must be a non-negative number',
    );
    expect(summarise(report, 'http://shop')).toBe(
      'Import of products into http://shop: 7 rows: 2 sent, 1 unchanged, 4 invalid, 0 failed.',
    );
  });

  it('refuses a sku that would not stay one path segment of V1/products/{sku}', async () => {
    const store = await syncedStore();
    const fake = fakeStore();
    // "." and ".." are dot segments: URL parsing resolves V1/products/.. to V1/, another address.
    const report = await run(
      store,
      [{ sku: '.' }, { sku: ' .. ', price: '1' }, { sku: 'a\uD800', price: '1' }, { sku: 'P-2', price: '8' }],
      { send: fake.send },
    );
    expect(report.problems.flatMap(formatProblem)).toEqual([
      'row 1 (sku .): sku "." cannot be sent: in a URL "." and ".." mean this folder and the one above, so V1/products/. would be another address',
      'row 2 (sku ..): sku ".." cannot be sent: in a URL "." and ".." mean this folder and the one above, so V1/products/.. would be another address',
      'row 3 (sku a\uD800): sku has a broken character (half of a UTF-16 surrogate pair), which a URL cannot carry',
    ]);
    expect(fake.requests.map((r) => r.path)).toEqual(['V1/products/P-2']);
    expect(report).toMatchObject({ sent: 1, invalid: 3 });
    // Dots among other characters, and slashes (percent-encoded), stay one segment.
    expect(checkProductRow({ sku: '...' }).ok).toBe(true);
    expect(checkProductRow({ sku: '../x' }).ok).toBe(true);
  });

  it('writes the store’s answer to the local record, so the same file sends nothing the second time', async () => {
    const store = await syncedStore();
    const fake = fakeStore();
    const edit: Record<string, string>[] = [
      { sku: 'P-2', price: '7.25', weight: '3' },
      { sku: 'P-1000', status: '2' },
    ];
    expect(await run(store, edit, { send: fake.send })).toMatchObject({ sent: 2, unchanged: 0 });
    const local = await records.get(store, 'products', '2');
    expect(local?.data).toMatchObject({
      sku: 'P-2',
      price: 7.25,
      weight: 3,
      updated_at: '2026-02-03 04:05:06',
    });
    expect(local?.updatedAt).toBe('2026-02-03 04:05:06');
    expect(local?.hash).toBe(hashRecordData(local?.data));
    const again = await run(store, edit, { send: fake.send });
    expect(fake.requests).toHaveLength(2);
    expect(again).toMatchObject({ total: 2, changed: 0, sent: 0, unchanged: 2, invalid: 0, failed: 0 });
  });

  it('does not send a row exported before the store’s record last changed, unless its updated_at is emptied', async () => {
    const store = await syncedStore();
    const fake = fakeStore();
    // Exported at the records' time, then the store changed P-1 (a sync, or an earlier import, brought it in).
    await records.upsert(store, 'products', [
      {
        id: '1',
        updatedAt: '2026-01-05 00:00:00',
        hash: 'newer',
        data: { ...products[0], name: 'Changed in the admin' },
      },
    ]);
    const stale = { sku: 'P-1', name: 'Plain', price: '11', updated_at: '2026-01-02 03:04:05' };
    const report = await run(
      store,
      [
        stale,
        { sku: 'P-2', price: '1', updated_at: '2026-01-02 03:04:05' },
        { sku: 'P-1000', price: '1', updated_at: '2/1/26 3:04' },
      ],
      { send: fake.send },
    );
    expect(fake.requests.map((r) => r.path)).toEqual(['V1/products/P-2']);
    expect(report.problems.flatMap(formatProblem)).toEqual([
      'row 1 (sku P-1): changed in the store since this row was exported (updated_at 2026-01-02 03:04:05 in the file, ' +
        '2026-01-05 00:00:00 now), so its other cells may undo that change: export again and redo the edit, or empty ' +
        'updated_at to send the row as it is',
      'row 3 (sku P-1000): updated_at must be as exported (YYYY-MM-DD HH:MM:SS), or empty',
    ]);
    expect(report).toMatchObject({ sent: 1, invalid: 2 });
    await run(store, [{ ...stale, updated_at: '' }], { send: fake.send });
    expect(fake.requests.at(-1)?.body).toEqual({ product: { sku: 'P-1', name: 'Plain', price: 11 } });
  });

  it('sends a product never synced as the row says, and lists the store’s refusal', async () => {
    const store = await syncedStore();
    const fake = fakeStore();
    const progress: [number, number][] = [];
    const report = await run(
      store,
      [
        { sku: 'NO-SUCH', price: '1' },
        { sku: 'P-1', price: '11' },
      ],
      { send: fake.send, onProgress: (done, total) => progress.push([done, total]) },
    );
    expect(fake.requests.map((r) => r.body)).toEqual([
      { product: { sku: 'NO-SUCH', price: 1 } },
      { product: { sku: 'P-1', price: 11 } },
    ]);
    expect(progress).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(report).toMatchObject({ sent: 1, failed: 1 });
    expect(report.problems).toEqual([
      {
        row: 1,
        label: 'sku NO-SUCH',
        kind: 'failed',
        errors: ["The product that was requested doesn't exist."],
      },
    ]);
  });

  it('calls nothing in a dry run, and says what it would send', async () => {
    const store = await syncedStore();
    const fake = fakeStore();
    const report = await run(store, rows, { send: fake.send, dryRun: true });
    expect(fake.requests).toEqual([]);
    expect(report).toMatchObject({ total: 7, changed: 2, sent: 0, unchanged: 1, invalid: 4, dryRun: true });
    expect(summarise(report, 'http://shop')).toBe(
      'Dry run of products, nothing sent to http://shop: 7 rows: 2 to send, 1 unchanged, 4 invalid.',
    );
    expect(await records.get(store, 'products', '1')).toMatchObject({ data: { name: 'Plain', price: 10 } });
  });

  it('with strict, sends nothing when any row is invalid', async () => {
    const store = await syncedStore();
    const fake = fakeStore();
    const report = await run(
      store,
      [
        { sku: 'P-1', price: '20' },
        { sku: 'P-2', price: 'free' },
      ],
      { send: fake.send, strict: true },
    );
    expect(fake.requests).toEqual([]);
    expect(report).toMatchObject({ changed: 1, sent: 0, invalid: 1, held: 1, failed: 0 });
    expect(summarise(report, 'http://shop')).toMatch(/1 changed not sent \(--strict and a row is invalid/);
  });

  it('stops sending after a fatal error and lists the rows not sent', async () => {
    const store = await syncedStore();
    let calls = 0;
    const report = await run(
      store,
      [
        { sku: 'P-1', price: '1' },
        { sku: 'P-2', price: '1' },
        { sku: 'P-1000', price: '1' },
      ],
      {
        send: async () => {
          if (++calls === 2) throw new Error('token revoked');
          return true;
        },
        isFatal: () => true,
      },
    );
    expect(calls).toBe(2);
    expect(report).toMatchObject({ sent: 1, failed: 2 });
    expect(report.problems).toEqual([
      { row: 2, label: 'sku P-2', kind: 'failed', errors: ['token revoked'] },
      {
        row: 3,
        label: 'sku P-1000',
        kind: 'not-sent',
        errors: ['not sent: an earlier row failed with "token revoked"'],
      },
    ]);
  });

  it('reports unknown columns, accepts the read-only export columns and trims cells', async () => {
    const store = await syncedStore();
    const fake = fakeStore();
    const report = await run(
      store,
      [
        { sku: ' P-1 ', colour: 'red', price: ' 5 ' },
        { sku: 'P-2', type_id: 'simple', updated_at: '2026-01-02 03:04:05', weight: ' 2 ', visibility: '3' },
      ],
      { send: fake.send },
    );
    expect(report.problems).toEqual([
      {
        row: 1,
        label: 'sku P-1',
        kind: 'invalid',
        errors: [expect.stringMatching(/^unknown column "colour" \(columns: sku, name, /)],
      },
    ]);
    expect(fake.requests.map((r) => r.body)).toEqual([{ product: { sku: 'P-2', weight: 2, visibility: 3 } }]);
  });

  describe('customers', () => {
    const customer = {
      id: 7,
      group_id: 1,
      email: 'ann.lee.7@example.com',
      firstname: 'Ann',
      lastname: 'Lee',
      created_at: '2025-01-01 00:00:00',
      updated_at: '2025-06-01 00:00:00',
      created_in: 'Default Store View',
      store_id: 1,
      website_id: 1,
      addresses: [{ id: 3, city: 'Lyon' }],
      disable_auto_group_change: 0,
    };
    const row = (cells: Record<string, string>) => ({
      id: '7',
      email: customer.email,
      firstname: 'Ann',
      lastname: 'Lee',
      group_id: '1',
      updated_at: customer.updated_at,
      ...cells,
    });

    async function customersStore(): Promise<string> {
      const store = `customers${++n}`.padEnd(32, 'x');
      await records.upsert(store, 'customers', [
        { id: '7', updatedAt: customer.updated_at, hash: hashRecordData(customer), data: customer },
      ]);
      return store;
    }

    it('checks email, names and ids before anything is sent', async () => {
      const store = await customersStore();
      const sent: ImportRequest[] = [];
      const report = await importRows({
        rows: [
          row({ email: 'not-an-email' }),
          row({ id: 'x7', firstname: ' ', lastname: '' }),
          row({ id: '', group_id: '1.5', website_id: '0', store_id: '-1' }),
          row({ id: '8' }),
          row({ id: '07' }),
        ],
        definition: customerImport,
        records,
        store,
        dryRun: false,
        send: async (request) => {
          sent.push(request);
          return request;
        },
      });
      expect(sent).toEqual([]);
      expect(report.problems.flatMap(formatProblem)).toEqual([
        'row 1 (customer 7): email "not-an-email" is not an email address',
        'row 2 (customer x7): id must be a whole number of 1 or more',
        'row 2 (customer x7): firstname is required: Magento refuses a customer without it',
        'row 2 (customer x7): lastname is required: Magento refuses a customer without it',
        "row 3: id is required (the store's customer id)",
        'row 3: group_id must be a whole number (a customer group id, e.g. 1 for General)',
        'row 3: website_id must be a whole number of 1 or more (a website id; 0 is the admin website, which has no customers)',
        'row 3: store_id must be a whole number (a store view id)',
        expect.stringMatching(
          /^row 4 \(customer 8\): customer 8 has not been synced from this store; run a sync first/,
        ),
      ]);
      // Row 5 is customer 7 again, unchanged; its duplicate check only counts valid rows.
      expect(report).toMatchObject({ total: 5, invalid: 4, unchanged: 1, sent: 0 });
    });

    /** Answers a GET with `current`, a PUT with the body's customer as saved. */
    const storeWith = (current: object, sent: ImportRequest[]) => async (request: ImportRequest) => {
      sent.push(request);
      if (request.method === 'GET') return structuredClone(current);
      return { ...(request.body as { customer: object }).customer, updated_at: '2026-03-03 03:03:03' };
    };

    it('reads the customer just before, and sends it whole with the edits, without updated_at', async () => {
      const store = await customersStore();
      const sent: ImportRequest[] = [];
      // Since the last sync the store added an address; the row's updated_at is the sync's.
      const current = { ...customer, addresses: [...customer.addresses, { id: 4, city: 'Nice' }] };
      const report = await importRows({
        rows: [row({ lastname: 'Lee-Smith ', group_id: '2', updated_at: '' })],
        definition: customerImport,
        records,
        store,
        dryRun: false,
        send: storeWith(current, sent),
      });
      const { updated_at: _dropped, ...rest } = current;
      expect(sent).toEqual([
        { method: 'GET', path: 'V1/customers/7', body: undefined },
        {
          method: 'PUT',
          path: 'V1/customers/7',
          body: { customer: { ...rest, lastname: 'Lee-Smith', group_id: 2 } },
        },
      ]);
      expect(report).toMatchObject({ changed: 1, sent: 1, unchanged: 0, invalid: 0 });
      expect((await records.get(store, 'customers', '7'))?.data).toMatchObject({
        lastname: 'Lee-Smith',
        group_id: 2,
        addresses: [
          { id: 3, city: 'Lyon' },
          { id: 4, city: 'Nice' },
        ],
        updated_at: '2026-03-03 03:03:03',
      });
    });

    it('refuses a row older than the store’s customer; with --strict, sends no row after it', async () => {
      const store = await customersStore();
      await records.upsert(store, 'customers', [
        {
          id: '8',
          updatedAt: customer.updated_at,
          hash: hashRecordData({ ...customer, id: 8 }),
          data: { ...customer, id: 8 },
        },
      ]);
      const sent: ImportRequest[] = [];
      const changed = { ...customer, firstname: 'Anne', updated_at: '2025-07-01 00:00:00' };
      const report = await importRows({
        rows: [row({ lastname: 'Lee-Smith' }), row({ id: '8', lastname: 'Lee-Smith' })],
        definition: customerImport,
        records,
        store,
        dryRun: false,
        strict: true,
        send: storeWith(changed, sent),
      });
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual(['GET V1/customers/7']);
      expect(report).toMatchObject({ changed: 1, sent: 0, invalid: 1, failed: 1 });
      expect(report.problems.flatMap(formatProblem)).toEqual([
        'row 1 (customer 7): changed in the store since this row was exported (updated_at 2025-06-01 00:00:00 in the file, ' +
          '2025-07-01 00:00:00 now), so its other cells may undo that change: export again and redo the edit, ' +
          'or empty updated_at to send the row as it is',
        'row 2 (customer 8): not sent: --strict and row 1 is invalid',
      ]);
    });

    it('does not send a row the store’s customer already matches', async () => {
      const store = await customersStore();
      const sent: ImportRequest[] = [];
      const current = { ...customer, lastname: 'Lee-Smith', updated_at: '2025-07-01 00:00:00' };
      const report = await importRows({
        rows: [row({ lastname: 'Lee-Smith', updated_at: '' })],
        definition: customerImport,
        records,
        store,
        dryRun: false,
        send: storeWith(current, sent),
      });
      expect(sent.map((r) => r.method)).toEqual(['GET']);
      expect(report).toMatchObject({ changed: 0, sent: 0, unchanged: 1, invalid: 0, failed: 0 });
    });
  });

  it('reads JSON rows, turning numbers into cells', () => {
    expect(rowsFromJson([{ sku: 'A', price: 12.5, status: 1, name: null }])).toEqual([
      { sku: 'A', price: '12.5', status: '1', name: '' },
    ]);
    expect(() => rowsFromJson({ sku: 'A' })).toThrow(/array of objects/);
    expect(() => rowsFromJson([1])).toThrow(/Element 1/);
  });
});
