import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../../src/simulator/server.js';
import { setWebhookSettings } from '../../../src/sync/webhooks/webhook-settings.js';
import { linkTestConnector, type TestConnector } from '../../helpers/linked-connector.js';
import {
  appliedEventIds,
  readTooEarly,
  postCommerceWebhook,
  rsaPair,
  waitFor,
} from '../../helpers/webhooks.js';

/**
 * `catalog_product_delete_after` is sent inside the store's transaction: the first read may still find
 * the row. The record is tombstoned only once a read finds it gone (the queued job reads again); a row
 * that is still there on the job's last attempt is kept as a save would keep it, and the job succeeds.
 */
let sim: RunningSimulator;
let t: TestConnector;
let store: string;
const key = rsaPair();
beforeAll(async () => {
  ({ sim, t, store } = await linkTestConnector(
    { products: 4, customers: 1, orders: 1 },
    { SYNC_INTERVALS: 'products=0,customers=0,orders=0,stock=0,customer_groups=0,shipments=0,categories=0' },
    // Two retries (1 s, then 2 s) rather than five: the last attempt comes about 8 s on, not 36 s.
    { webhookRetries: 2 },
  ));
  await setWebhookSettings(t.connector.storage.integrations, store, { commercePublicKey: key.publicPem });
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

/** Posts a signed Commerce webhook for the product; returns its event id (the body's hash, as logged). */
async function send(eventName: string, sku: string): Promise<string> {
  const product = sim.catalog.findProduct(sku)!;
  const body = JSON.stringify({ eventName, data: { product: { ...product } } });
  const res = await postCommerceWebhook(t.connector.url, store, body, key.privateKey);
  expect(res.status).toBe(200);
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

async function synced(sku: string): Promise<string> {
  const id = String(sim.catalog.findProduct(sku)!.id);
  const saved = await send('observer.catalog_product_save_after', sku);
  await waitFor(() => appliedEventIds(t.logs).includes(saved));
  expect(await t.connector.records.get(store, 'products', id)).toBeDefined();
  return id;
}

it('a product deleted in the store is tombstoned although its event came before the commit', async () => {
  const sku = sim.catalog.products[0]!.sku;
  const id = await synced(sku);
  const kept = await t.connector.records.get(store, 'products', id);
  const deleted = await send('observer.catalog_product_delete_after', sku);
  // The first read finds the row: nothing is tombstoned on the event's word.
  await waitFor(() => readTooEarly(t.logs, deleted));
  expect((await t.connector.records.get(store, 'products', id))?.deletedAt).toBeUndefined();
  // The store commits once our answer is back.
  sim.catalog.deleteProduct(sku);
  // The backstop (5 s) reads again and finds it gone.
  await waitFor(() => appliedEventIds(t.logs).includes(deleted), 20_000);
  const record = await t.connector.records.get(store, 'products', id);
  expect(record?.deletedAt).toBeDefined();
  expect(record?.data).toEqual(kept?.data);
}, 30_000);

it('a delete event whose row is still there on the last attempt keeps the row, and the job succeeds', async () => {
  const sku = sim.catalog.products[1]!.sku;
  const id = await synced(sku);
  const kept = await t.connector.records.get(store, 'products', id);
  const deleted = await send('observer.catalog_product_delete_after', sku);
  // The backstop (5 s), then retries 1 and 2 s apart: the last attempt comes about 8 s on.
  await waitFor(() => appliedEventIds(t.logs).includes(deleted), 30_000);
  expect(await t.connector.records.get(store, 'products', id)).toEqual(kept);
}, 40_000);
