import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../../src/simulator/server.js';
import { setWebhookSettings } from '../../../src/sync/webhooks/webhook-settings.js';
import { linkTestConnector, type TestConnector } from '../../helpers/linked-connector.js';
import { postCommerceWebhook, rsaPair } from '../../helpers/webhooks.js';

/**
 * `catalog_product_save_after` is sent inside the store's transaction. For an update the receiver reads
 * again when the row is older than the event; for a new row the first read finds nothing, and the event
 * must not be marked applied then (the queued job reads again), or a product created in the store would
 * arrive only with the next poll.
 */
let sim: RunningSimulator;
let t: TestConnector;
let store: string;
const key = rsaPair();
beforeAll(async () => {
  ({ sim, t, store } = await linkTestConnector(
    { products: 3, customers: 1, orders: 1 },
    { SYNC_INTERVALS: 'products=0,customers=0,orders=0,stock=0,customer_groups=0,shipments=0,categories=0' },
  ));
  await setWebhookSettings(t.connector.storage.integrations, store, { commercePublicKey: key.publicPem });
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

it('a product created in the store is applied although the event came before the commit', async () => {
  const now = new Date();
  const id = Math.max(...sim.catalog.products.map((p) => p.id)) + 1;
  const ts = now.toISOString().slice(0, 19).replace('T', ' ');
  const body = JSON.stringify({
    eventName: 'observer.catalog_product_save_after',
    data: { product: { entity_id: id, sku: 'NEW-1', name: 'New', updated_at: ts, created_at: ts } },
  });
  const res = await postCommerceWebhook(t.connector.url, store, body, key.privateKey);
  expect(res.status).toBe(200);
  // The store commits once our answer is back.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const created = sim.catalog.createProduct(
    { sku: 'NEW-1', name: 'New', price: 1, attribute_set_id: 4 },
    now,
  );
  expect(created.id).toBe(id);
  await new Promise((resolve) => setTimeout(resolve, 7_000)); // past the 5 s backstop
  expect(await t.connector.records.get(store, 'products', String(id))).toBeDefined();
});
