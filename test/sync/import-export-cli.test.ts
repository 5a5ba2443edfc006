import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { createFileRecordStore } from '../../src/storage/file-record-store.js';
import { hashRecordData } from '../../src/storage/records.js';
import { formatCsvRow, parseCsv } from '../../src/sync/import-export/csv.js';
import { runCli } from '../helpers/cli.js';
import { startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';

let sim: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;
let consumerKey: string;
const SYNCED = 5;

const cli = (script: 'export' | 'import', args: string[]) =>
  runCli(script, args, { DATA_DIR: t.dataDir, NODE_ENV: 'test' });

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 30, customers: 2, orders: 2 });
  t = await startTestConnector();
  const created = await adminJson<{ id: number; consumer_key: string }>(sim.url, 'POST', '/integrations', {
    name: 'Import/export',
    endpoint_url: `${t.connector.url}/magento/callback`,
    identity_link_url: `${t.connector.url}/magento/identity`,
    resources: ['Magento_Catalog::products', 'Magento_Backend::stores'],
  });
  await adminJson(sim.url, 'POST', `/integrations/${created.body.id}/activate`);
  consumerKey = created.body.consumer_key;
  await t.connector.activation.settled(consumerKey);
  // The CLIs open the same files: stop the server (and anything it syncs) first, and start the
  // records from a known set.
  await t.connector.close();
  const records = createFileRecordStore(path.join(t.dataDir, 'records'));
  await rm(path.join(t.dataDir, 'records'), { recursive: true, force: true });
  await records.upsert(
    consumerKey,
    'products',
    sim.catalog.products.slice(0, SYNCED).map((p) => {
      const data = structuredClone(p) as unknown as Record<string, unknown>;
      return { id: String(p.id), updatedAt: p.updated_at, hash: hashRecordData(data), data };
    }),
  );
  await records.close();
});
afterAll(async () => {
  await rm(t.dataDir, { recursive: true, force: true });
  await sim.close();
});

describe('npm run export / npm run import', () => {
  it('exports CSV, and imports an edited copy: the new price reaches the store, the bad row is reported', async () => {
    const csvFile = path.join(t.dataDir, 'products.csv');
    const exported = await cli('export', ['--store', consumerKey, '--entity', 'products', '--out', csvFile]);
    expect(exported.stderr).toContain(`${SYNCED} products from ${sim.url} written to ${csvFile} (csv)`);
    expect(exported.code).toBe(0);
    const [header, ...rows] = parseCsv(await readFile(csvFile, 'utf8'));
    expect(header).toEqual([
      'sku',
      'name',
      'price',
      'status',
      'visibility',
      'type_id',
      'weight',
      'updated_at',
    ]);
    expect(rows.map((r) => r[0])).toEqual(sim.catalog.products.slice(0, SYNCED).map((p) => p.sku));

    const target = rows[1] as string[];
    const sku = target[0] as string;
    const untouched = sim.catalog.getProduct(sku).price;
    target[2] = '123.45';
    rows.push(['NEW-SKU', 'Bad price', 'cheap', '', '', '', '', '']);
    await writeFile(csvFile, [header as string[], ...rows].map(formatCsvRow).join(''));

    const dry = await cli('import', ['--entity', 'products', '--file', csvFile, '--dry-run']);
    expect(dry.stdout).toContain(`row ${SYNCED + 1} (sku NEW-SKU): price must be a non-negative number`);
    expect(dry.stdout).toContain(
      `Dry run of products, nothing sent to ${sim.url}: ${SYNCED + 1} rows: 1 to send, ${SYNCED - 1} unchanged, 1 invalid.`,
    );
    expect(dry.code).toBe(1);
    expect(sim.catalog.getProduct(sku).price).toBe(untouched);

    const imported = await cli('import', ['--store', sim.url, '--entity', 'products', '--file', csvFile]);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toContain(`row ${SYNCED + 1} (sku NEW-SKU): price must be a non-negative number`);
    expect(imported.stdout).toContain(`1 sent, ${SYNCED - 1} unchanged, 1 invalid, 0 failed.`);
    expect(imported.code).toBe(1);
    expect(sim.catalog.getProduct(sku).price).toBe(123.45);
  });

  it('exports JSON to stdout', async () => {
    const res = await cli('export', ['--entity', 'products', '--format', 'json']);
    expect(res.code).toBe(0);
    const items = JSON.parse(res.stdout) as { sku: string }[];
    expect(items.map((p) => p.sku)).toEqual(sim.catalog.products.slice(0, SYNCED).map((p) => p.sku));
  });

  it('imports a JSON file and reports a row the store refuses', async () => {
    const file = path.join(t.dataDir, 'patch.json');
    const sku = sim.catalog.products[2]?.sku as string;
    await writeFile(
      file,
      JSON.stringify([
        { sku, name: 'Renamed from JSON', status: 2 },
        { sku: 'NO-SUCH-SKU', price: 1 },
      ]),
    );
    const res = await cli('import', ['--entity', 'products', '--file', file]);
    expect(res.stdout).toMatch(/row 2 \(sku NO-SUCH-SKU\): The product that was requested doesn't exist/);
    expect(res.stdout).toContain('2 rows: 1 sent, 0 unchanged, 0 invalid, 1 failed.');
    expect(res.code).toBe(1);
    expect(sim.catalog.getProduct(sku)).toMatchObject({ name: 'Renamed from JSON', status: 2 });
  });

  it('says clearly what is wrong: entity, store, nothing synced, a non-importable entity', async () => {
    const entity = await cli('export', ['--entity', 'invoices']);
    expect(entity.code).not.toBe(0);
    expect(entity.stderr).toMatch(/must be one of products, customers, orders/);

    const store = await cli('export', ['--entity', 'products', '--store', 'https://unknown.example']);
    expect(store.code).toBe(1);
    expect(store.stderr).toMatch(/No active integration matches https:\/\/unknown.example/);

    const empty = await cli('export', ['--entity', 'customers']);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('id,email,firstname,lastname,group_id,website_id,store_id,updated_at\r\n');
    expect(empty.stderr).toContain(`Nothing to export: no customers have been synced from ${sim.url} yet.`);

    const orders = await cli('import', ['--entity', 'orders', '--file', 'x.csv']);
    expect(orders.code).not.toBe(0);
    expect(orders.stderr).toMatch(
      /only products, customers and stock can be imported; orders is export-only/,
    );

    const missing = await cli('import', ['--entity', 'products', '--file', path.join(t.dataDir, 'none.csv')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Cannot read .*none\.csv: no such file/);
  });
});
