import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { parseCsv } from '../../src/sync/import-export/csv.js';
import { EXPORT_COLUMNS } from '../../src/sync/import-export/export.js';
import { runCli } from '../helpers/cli.js';
import { startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';

const PRODUCTS = 12;
let sim: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;
let consumerKey: string;
let deleted: { id: string; sku: string }[];
let deletedAt: Map<string, string>;
let closed = false;

const cli = (args: string[]) => runCli('export', args, { DATA_DIR: t.dataDir, NODE_ENV: 'test' });

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: PRODUCTS, customers: 2, orders: 2 });
  t = await startTestConnector({ SYNC_INTERVALS: 'products=0,customers=0,orders=0' });
  const created = await adminJson<{ id: number; consumer_key: string }>(sim.url, 'POST', '/integrations', {
    name: 'Export deleted',
    endpoint_url: `${t.connector.url}/magento/callback`,
    identity_link_url: `${t.connector.url}/magento/identity`,
    resources: ['Magento_Catalog::products', 'Magento_Backend::stores'],
  });
  await adminJson(sim.url, 'POST', `/integrations/${created.body.id}/activate`);
  consumerKey = created.body.consumer_key;
  await t.connector.activation.settled(consumerKey);
  // The first load, over HTTP (queued by the activation); then two products go in the store and a
  // scan finds them.
  const loaded = async () =>
    (await t.connector.sync.listRuns(consumerKey)).some((r) => r.entity === 'products' && r.ok);
  while (!(await loaded())) await new Promise((resolve) => setTimeout(resolve, 50));
  deleted = [sim.catalog.products[2]!, sim.catalog.products[7]!].map((p) => ({
    id: String(p.id),
    sku: p.sku,
  }));
  for (const { sku } of deleted) sim.catalog.deleteProduct(sku);
  await t.connector.sync.enqueue(consumerKey, 'products', { scanDeletions: true });
  await t.connector.sync.idle();
  const run = (await t.connector.sync.listRuns(consumerKey)).find((r) => r.entity === 'products');
  expect(run).toMatchObject({ ok: true, counts: { deleted: 2 } });
  deletedAt = new Map();
  for (const { id, sku } of deleted)
    deletedAt.set(sku, (await t.connector.records.get(consumerKey, 'products', id))!.deletedAt!);
  // The CLI opens the same files.
  await t.connector.close();
  closed = true;
});
afterAll(async () => {
  if (!closed) await t.connector.close();
  await rm(t.dataDir, { recursive: true, force: true });
  await sim.close();
});

describe('export and deletions', () => {
  it('leaves deleted records out by default', async () => {
    const csv = await cli(['--entity', 'products']);
    expect(csv.code).toBe(0);
    const rows = parseCsv(csv.stdout);
    expect(rows[0]).toEqual([...EXPORT_COLUMNS.products]);
    expect(rows.slice(1).map((r) => r[0])).toEqual(sim.catalog.products.map((p) => p.sku));
    const json = await cli(['--entity', 'products', '--format', 'json']);
    const items = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(items.map((p) => p.sku)).toEqual(sim.catalog.products.map((p) => p.sku));
    expect(items.every((p) => !('deleted_at' in p))).toBe(true);
  });

  it('includes them with --include-deleted, the deletion time in a deleted_at column', async () => {
    const out = path.join(t.dataDir, 'all.csv');
    const res = await cli(['--entity', 'products', '--include-deleted', '--out', out]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(`${PRODUCTS} products`);
    const rows = parseCsv(await readFile(out, 'utf8'));
    expect(rows[0]).toEqual([...EXPORT_COLUMNS.products, 'deleted_at']);
    const body = rows.slice(1);
    expect(body).toHaveLength(PRODUCTS);
    const when = new Map(body.map((r) => [r[0], r.at(-1)]));
    for (const { sku } of deleted) expect(when.get(sku)).toBe(deletedAt.get(sku));
    expect(body.filter((r) => r.at(-1) !== '').map((r) => r[0])).toEqual(deleted.map((d) => d.sku));

    const json = await cli(['--entity', 'products', '--format', 'json', '--include-deleted']);
    const items = JSON.parse(json.stdout) as { sku: string; deleted_at: string | null }[];
    expect(items).toHaveLength(PRODUCTS);
    expect(items.filter((p) => p.deleted_at !== null).map((p) => [p.sku, p.deleted_at])).toEqual(
      deleted.map((d) => [d.sku, deletedAt.get(d.sku)]),
    );
  });
});
