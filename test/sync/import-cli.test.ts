import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { formatCsvRow, parseCsv } from '../../src/sync/import-export/csv.js';
import { startConnector } from '../../src/app/main.js';
import { runCli } from '../helpers/cli.js';
import { startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';

/**
 * `npm run import` as a user runs it, against the simulator over real HTTP, after a real sync: the
 * PUTs are counted where they arrive, in the simulator's request log.
 */

const PRODUCTS = 200;
const CUSTOMERS = 20;
let sim: RunningSimulator;
let dataDir: string;
let consumerKey: string;

const cli = (script: 'export' | 'import', args: string[]) =>
  runCli(script, args, { DATA_DIR: dataDir, NODE_ENV: 'test' });

/** A connector on the data folder the CLIs use (they must not run while it does). */
const connectorOn = (dir: string) =>
  startConnector(
    parseConfig({ NODE_ENV: 'test', PORT: '0', DATA_DIR: dir, DEMO_USER_PASSWORD: 'not used here' }),
    pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() })),
  );

/** Every signed write the store accepted the signature of, as `PUT /rest/V1/...`. */
async function puts(method: 'PUT' | 'POST' = 'PUT'): Promise<string[]> {
  const log = (
    await adminJson<{ method: string; url: string }[]>(sim.url, 'GET', '/oauth-log?outcome=verified')
  ).body;
  return log.filter((e) => e.method === method).map((e) => `${method} ${e.url}`);
}

/** The PUTs (or POSTs) a step sent. */
async function putsDuring(step: () => Promise<unknown>, method: 'PUT' | 'POST' = 'PUT'): Promise<string[]> {
  const before = (await puts(method)).length;
  await step();
  return (await puts(method)).slice(before);
}

async function readCsv(file: string): Promise<{ header: string[]; rows: string[][] }> {
  const [header, ...rows] = parseCsv(await readFile(file, 'utf8'));
  return { header: header as string[], rows };
}

const writeCsv = (file: string, header: string[], rows: string[][]) =>
  writeFile(file, [header, ...rows].map((r) => formatCsvRow(r)).join(''));

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: PRODUCTS, customers: CUSTOMERS, orders: 2 });
  const t = await startTestConnector();
  dataDir = t.dataDir;
  const created = await adminJson<{ id: number; consumer_key: string }>(sim.url, 'POST', '/integrations', {
    name: 'Import',
    endpoint_url: `${t.connector.url}/magento/callback`,
    identity_link_url: `${t.connector.url}/magento/identity`,
    resources: [
      'Magento_Catalog::products',
      'Magento_Backend::stores',
      'Magento_Customer::customer',
      'Magento_Customer::manage',
      'Magento_InventoryApi::source',
      'Magento_InventoryApi::stock_source_item_assign',
    ],
  });
  await adminJson(sim.url, 'POST', `/integrations/${created.body.id}/activate`);
  consumerKey = created.body.consumer_key;
  await t.connector.activation.settled(consumerKey);
  // The first sync, as the connector runs it.
  await t.connector.sync.enqueue(consumerKey, 'products');
  await t.connector.sync.enqueue(consumerKey, 'customers');
  await t.connector.sync.enqueue(consumerKey, 'stock');
  await t.connector.sync.idle();
  expect(await t.connector.records.count(consumerKey, 'products')).toBe(PRODUCTS);
  expect(await t.connector.records.count(consumerKey, 'customers')).toBe(CUSTOMERS);
  await t.connector.close();
}, 60_000);
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await sim.close();
});

describe('npm run import: products', () => {
  let file: string;
  let header: string[];
  let rows: string[][];
  /** The export as it was, before any test edited it. */
  let original: string[][];

  beforeAll(async () => {
    file = path.join(dataDir, 'products.csv');
    const exported = await cli('export', ['--entity', 'products', '--out', file]);
    expect(exported.code).toBe(0);
    ({ header, rows } = await readCsv(file));
    expect(rows).toHaveLength(PRODUCTS);
    original = rows.map((r) => [...r]);
  });

  const column = (name: string) => header.indexOf(name);

  it('sends exactly the 2 edited rows of 200', async () => {
    const [a, b] = [rows[9] as string[], rows[149] as string[]];
    const [skuA, skuB] = [a[column('sku')] as string, b[column('sku')] as string];
    const nameA = sim.catalog.getProduct(skuA).name;
    a[column('price')] = '1234.5';
    b[column('name')] = 'Renamed by import';
    await writeCsv(file, header, rows);

    let res: Awaited<ReturnType<typeof cli>> | undefined;
    const sent = await putsDuring(async () => (res = await cli('import', [file])));
    expect(sent).toEqual([
      `PUT /rest/V1/products/${encodeURIComponent(skuA)}`,
      `PUT /rest/V1/products/${encodeURIComponent(skuB)}`,
    ]);
    expect(res?.stdout).toContain(
      `Import of products into ${sim.url}: ${PRODUCTS} rows: 2 sent, ${PRODUCTS - 2} unchanged, 0 invalid, 0 failed.`,
    );
    expect(res?.code).toBe(0);
    expect(sim.catalog.getProduct(skuA)).toMatchObject({ price: 1234.5, name: nameA });
    expect(sim.catalog.getProduct(skuB).name).toBe('Renamed by import');
  });

  it('sends nothing when the same file is imported again', async () => {
    let res: Awaited<ReturnType<typeof cli>> | undefined;
    expect(await putsDuring(async () => (res = await cli('import', ['--entity', 'products', file])))).toEqual(
      [],
    );
    expect(res?.stdout).toContain(`${PRODUCTS} rows: 0 sent, ${PRODUCTS} unchanged, 0 invalid, 0 failed.`);
    expect(res?.code).toBe(0);
  });

  it('sends nothing for an invalid row, and nothing at all with --strict', async () => {
    const edited = rows.map((r) => [...r]);
    const bad = edited[4] as string[];
    bad[column('price')] = 'cheap';
    const badSku = bad[column('sku')] as string;
    const invalidOnly = path.join(dataDir, 'invalid.csv');
    await writeCsv(invalidOnly, header, edited);

    let res: Awaited<ReturnType<typeof cli>> | undefined;
    expect(await putsDuring(async () => (res = await cli('import', [invalidOnly])))).toEqual([]);
    expect(res?.stdout).toContain(`row 5 (sku ${badSku}): price must be a non-negative number`);
    expect(res?.stdout).toContain(`0 sent, ${PRODUCTS - 1} unchanged, 1 invalid, 0 failed.`);
    expect(res?.code).toBe(1);

    const good = edited[6] as string[];
    good[column('status')] = good[column('status')] === '1' ? '2' : '1';
    await writeCsv(invalidOnly, header, edited);
    expect(await putsDuring(async () => (res = await cli('import', [invalidOnly, '--strict'])))).toEqual([]);
    expect(res?.stdout).toContain('1 changed not sent (--strict and a row is invalid');
    expect(res?.code).toBe(1);

    expect(await putsDuring(() => cli('import', [invalidOnly, '--dry-run']))).toEqual([]);
    const goodSku = good[column('sku')] as string;
    expect(await putsDuring(() => cli('import', [invalidOnly]))).toEqual([
      `PUT /rest/V1/products/${encodeURIComponent(goodSku)}`,
    ]);
    expect(sim.catalog.getProduct(goodSku).status).toBe(Number(good[column('status')]));
  });
  it('does not send a row exported before the store changed it, which would undo that change', async () => {
    // The first export, with row 10 renamed: its price cell still says what the store had before the
    // first test's import changed it.
    const stale = original.map((r) => [...r]);
    const row = stale[9] as string[];
    const sku = row[column('sku')] as string;
    row[column('name')] = 'Renamed from an old export';
    const old = path.join(dataDir, 'old-export.csv');
    await writeCsv(old, header, stale);

    let res: Awaited<ReturnType<typeof cli>> | undefined;
    expect(await putsDuring(async () => (res = await cli('import', [old])))).toEqual([]);
    expect(res?.stdout).toContain(`row 10 (sku ${sku}): changed in the store since this row was exported`);
    expect(res?.code).toBe(1);
    expect(sim.catalog.getProduct(sku).price).toBe(1234.5);

    // Emptying updated_at says "send it as it is".
    row[column('updated_at')] = '';
    await writeCsv(old, header, stale);
    expect(await putsDuring(() => cli('import', [old]))).toEqual([
      `PUT /rest/V1/products/${encodeURIComponent(sku)}`,
    ]);
    expect(sim.catalog.getProduct(sku)).toMatchObject({
      name: 'Renamed from an old export',
      price: Number(row[column('price')]),
    });
  });
});

describe('npm run import: customers', () => {
  let file: string;
  let header: string[];
  let rows: string[][];

  beforeAll(async () => {
    file = path.join(dataDir, 'customers.csv');
    const exported = await cli('export', ['--entity', 'customers', '--out', file]);
    expect(exported.code).toBe(0);
    ({ header, rows } = await readCsv(file));
    expect(header).toEqual([
      'id',
      'email',
      'firstname',
      'lastname',
      'group_id',
      'website_id',
      'store_id',
      'updated_at',
    ]);
    expect(rows).toHaveLength(CUSTOMERS);
  });

  it('round trip: export, edit, import, and a sync brings the store’s change back unchanged', async () => {
    const before3 = structuredClone(sim.catalog.getCustomer(3));
    const before4 = structuredClone(sim.catalog.getCustomer(4));
    const before5 = structuredClone(sim.catalog.getCustomer(5));
    const newGroup = before4.group_id === 2 ? 3 : 2;
    (rows[2] as string[])[3] = 'Import-Tested';
    (rows[3] as string[])[4] = String(newGroup);
    // Valid here, refused by the store: the email belongs to customer 6.
    (rows[4] as string[])[1] = sim.catalog.getCustomer(6).email;
    await writeCsv(file, header, rows);

    let res: Awaited<ReturnType<typeof cli>> | undefined;
    const sent = await putsDuring(async () => (res = await cli('import', ['--entity', 'customers', file])));
    expect(sent).toEqual([
      'PUT /rest/V1/customers/3',
      'PUT /rest/V1/customers/4',
      'PUT /rest/V1/customers/5',
    ]);
    expect(res?.stdout).toContain(
      'row 5 (customer 5): A customer with the same email address already exists in an associated website.',
    );
    expect(res?.stdout).toContain(
      `Import of customers into ${sim.url}: ${CUSTOMERS} rows: 2 sent, ${CUSTOMERS - 3} unchanged, 0 invalid, 1 failed.`,
    );
    expect(res?.code).toBe(1);

    // The whole customer was sent: nothing but the edit (and updated_at) changed in the store.
    const after3 = sim.catalog.getCustomer(3);
    expect(after3).toEqual({ ...before3, lastname: 'Import-Tested', updated_at: after3.updated_at });
    const after4 = sim.catalog.getCustomer(4);
    expect(after4).toEqual({ ...before4, group_id: newGroup, updated_at: after4.updated_at });
    expect(sim.catalog.getCustomer(5)).toEqual(before5);

    // With the refused email put back, the file matches the store: nothing to send.
    (rows[4] as string[])[1] = before5.email;
    await writeCsv(file, header, rows);
    expect(
      await putsDuring(async () => (res = await cli('import', ['--entity', 'customers', file]))),
    ).toEqual([]);
    expect(res?.stdout).toContain(`0 sent, ${CUSTOMERS} unchanged, 0 invalid, 0 failed.`);

    // A sync reads the changed customers back; the import already wrote what the store answered,
    // so the records hold the store's customers as they are and the sync rewrites none of them.
    const connector = await connectorOn(dataDir);
    try {
      const job = await connector.sync.enqueue(consumerKey, 'customers');
      expect(job.mode).toBe('incremental');
      await connector.sync.idle();
      const run = (await connector.sync.listRuns(consumerKey))
        .filter((r) => r.entity === 'customers' && r.mode === 'incremental')
        .sort((x, y) => y.finishedAt.localeCompare(x.finishedAt))[0];
      expect(run && run.startedAt >= job.createdAt).toBe(true);
      expect(run?.error ?? null).toBeNull();
      expect(run?.counts.read).toBeGreaterThanOrEqual(2);
      expect(run?.counts).toMatchObject({ created: 0, updated: 0 });
      const local3 = await connector.records.get(consumerKey, 'customers', '3');
      expect(local3?.data).toEqual(JSON.parse(JSON.stringify(sim.catalog.getCustomer(3))));
      expect(local3?.data.lastname).toBe('Import-Tested');
      expect((await connector.records.get(consumerKey, 'customers', '4'))?.data.group_id).toBe(newGroup);
    } finally {
      await connector.close();
    }
    const exported = await cli('export', ['--entity', 'customers', '--format', 'json']);
    const customers = JSON.parse(exported.stdout) as { id: number; lastname: string }[];
    expect(customers.find((c) => c.id === 3)?.lastname).toBe('Import-Tested');
  }, 60_000);

  it('checks every row before sending: a bad email or a missing name sends nothing for that row', async () => {
    const edited = rows.map((r) => [...r]);
    (edited[0] as string[])[1] = 'no-at-sign.example.com';
    (edited[1] as string[])[2] = '';
    (edited[2] as string[])[4] = 'gold';
    let res: Awaited<ReturnType<typeof cli>> | undefined;
    const bad = path.join(dataDir, 'customers-bad.csv');
    await writeCsv(bad, header, edited);
    expect(await putsDuring(async () => (res = await cli('import', ['--entity', 'customers', bad])))).toEqual(
      [],
    );
    expect(res?.stdout).toContain(
      'row 1 (customer 1): email "no-at-sign.example.com" is not an email address',
    );
    expect(res?.stdout).toContain('row 2 (customer 2): firstname is required');
    expect(res?.stdout).toContain('row 3 (customer 3): group_id must be a whole number');
    expect(res?.stdout).toContain('0 sent, 17 unchanged, 3 invalid, 0 failed.');
    expect(res?.code).toBe(1);
  });
});

describe('npm run import: stock (MSI source items)', () => {
  it('sends a POST for each changed source item only, and a scan afterwards rewrites nothing', async () => {
    const file = path.join(dataDir, 'stock.csv');
    expect((await cli('export', ['--entity', 'stock', '--out', file])).code).toBe(0);
    const { header, rows } = await readCsv(file);
    expect(header).toEqual(['sku', 'source_code', 'quantity', 'status']);
    expect(rows.length).toBeGreaterThanOrEqual(PRODUCTS);
    const [a, b] = [rows[4] as string[], rows[77] as string[]];
    a[2] = String(Number(a[2]) + 13);
    b[3] = b[3] === '1' ? '0' : '1';
    await writeCsv(file, header, rows);

    let res: Awaited<ReturnType<typeof cli>> | undefined;
    const sent = await putsDuring(
      async () => (res = await cli('import', ['--entity', 'stock', file])),
      'POST',
    );
    expect(sent).toEqual(['POST /rest/V1/inventory/source-items', 'POST /rest/V1/inventory/source-items']);
    expect(res?.stdout).toContain(
      `${rows.length} rows: 2 sent, ${rows.length - 2} unchanged, 0 invalid, 0 failed.`,
    );
    const inStore = (sku: string, source: string) =>
      sim.catalog
        .searchSourceItems({ filter_groups: [], page_size: 100_000, current_page: 1 })
        .items.find((i) => i.sku === sku && i.source_code === source);
    expect(inStore(a[0] as string, a[1] as string)?.quantity).toBe(Number(a[2]));
    expect(inStore(b[0] as string, b[1] as string)?.status).toBe(Number(b[3]));

    // The same file again: nothing differs from what the store now has.
    expect(await putsDuring(() => cli('import', ['--entity', 'stock', file]), 'POST')).toEqual([]);

    // Bad cells: reported per row, nothing sent for them.
    const bad = rows.map((r) => [...r]);
    (bad[0] as string[])[2] = 'lots';
    (bad[1] as string[])[3] = 'yes';
    (bad[2] as string[])[1] = '';
    const badFile = path.join(dataDir, 'stock-bad.csv');
    await writeCsv(badFile, header, bad);
    expect(
      await putsDuring(async () => (res = await cli('import', ['--entity', 'stock', badFile])), 'POST'),
    ).toEqual([]);
    expect(res?.stdout).toContain('quantity must be a number');
    expect(res?.stdout).toContain('status must be 1 (in stock) or 0 (out of stock)');
    expect(res?.stdout).toContain('source_code is required');
    expect(res?.code).toBe(1);

    // The write-back has the shape a scan stores: the next full scan finds every row unchanged.
    const connector = await connectorOn(dataDir);
    try {
      const job = await connector.sync.enqueue(consumerKey, 'stock');
      await connector.sync.idle();
      const run = (await connector.sync.listRuns(consumerKey)).find(
        (r) => r.entity === 'stock' && r.startedAt >= job.createdAt,
      );
      expect(run?.error ?? null).toBeNull();
      expect(run?.counts).toMatchObject({
        read: rows.length,
        created: 0,
        updated: 0,
        unchanged: rows.length,
      });
    } finally {
      await connector.close();
    }
  }, 60_000);
});

describe('npm run import: the command line', () => {
  it('explains itself with --help and refuses a missing file name', async () => {
    const help = await cli('import', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--entity <name>\s+products, customers or stock/);
    expect(help.stdout).toContain(
      'id, email, firstname, lastname, group_id, website_id, store_id: id, email',
    );
    expect(help.stdout).toContain('--strict');
    const missing = await cli('import', ['--entity', 'customers']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('which file?');
  });
});
