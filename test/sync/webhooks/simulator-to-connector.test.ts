import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../../src/simulator/server.js';
import type { WebhookDelivery } from '../../../src/simulator/webhooks/webhook-sender.js';
import { setWebhookSettings } from '../../../src/sync/webhooks/webhook-settings.js';
import { adminJson } from '../../helpers/http.js';
import { linkTestConnector, type TestConnector } from '../../helpers/linked-connector.js';
import { createTestDatabase } from '../../helpers/postgres.js';
import { appliedEventIds, readTooEarly, waitFor } from '../../helpers/webhooks.js';

/** JSON with keys sorted and nulls left out, as the REST layer answers (PostgreSQL's jsonb reorders keys). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v === null
      ? undefined
      : typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => (a < b ? -1 : 1)))
        : v,
  );
}

/** Store → connector over loopback HTTP: the simulator signs and sends, the connector verifies and applies. */
describe.each([
  { adapter: 'embedded', database: false },
  { adapter: 'postgres', database: true },
])('webhooks from the simulator, $adapter storage', ({ database }) => {
  let sim: RunningSimulator;
  let t: TestConnector;
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let store: string;

  beforeAll(async () => {
    db = database ? await createTestDatabase() : undefined;
    ({ sim, t, store } = await linkTestConnector(
      { products: 30, customers: 10, orders: 10 },
      {
        SYNC_INTERVALS: 'products=0,customers=0,orders=0,stock=0,customer_groups=0,shipments=0,categories=0',
        ...(db ? { DATABASE_URL: db.url } : {}),
      },
    ));
    // What a merchant does: copy the key from the store's admin, point a subscription at the connector.
    const { body } = await adminJson<{ public_key: string }>(sim.url, 'GET', '/webhooks');
    await setWebhookSettings(t.connector.storage.integrations, store, { commercePublicKey: body.public_key });
    const sub = await adminJson(sim.url, 'POST', '/webhooks/subscriptions', {
      url: `${t.connector.url}/magento/webhooks/${store}`,
    });
    expect(sub.status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
    await db?.drop();
  });

  const faults = (f: Record<string, number>) => adminJson(sim.url, 'PUT', '/webhooks/faults', f);
  const settle = () => adminJson(sim.url, 'POST', '/webhooks/idle', {});
  const deliveries = async (since: number) =>
    (await adminJson<WebhookDelivery[]>(sim.url, 'GET', `/webhooks/deliveries?since_id=${since}`)).body;
  const lastDelivery = async () => (await deliveries(0)).at(-1)?.id ?? 0;

  /** Every local record of `entity` equals the store's row (what a poll would have written). */
  async function matchesStore(entity: 'products' | 'customers' | 'orders', ids: number[]): Promise<boolean> {
    const rows =
      entity === 'products'
        ? sim.catalog.products
        : entity === 'customers'
          ? sim.catalog.customers
          : sim.catalog.orders;
    for (const id of ids) {
      const row = rows.find((r) => ('entity_id' in r ? r.entity_id : r.id) === id);
      const local = await t.connector.records.get(store, entity, String(id));
      if (!row || !local || canonical(local.data) !== canonical(row)) return false;
    }
    return true;
  }

  const local = (entity: string, id: string) => t.connector.records.get(store, entity, id);
  const stockId = (item: { source_code: string; sku: string }) =>
    `${encodeURIComponent(item.source_code)}/${item.sku}`;

  /** Syncs a product and its source items by their own save webhooks; returns their local ids. */
  async function syncedProduct(index: number): Promise<{ sku: string; id: string; stock: string[] }> {
    const { sku, id } = sim.catalog.products[index]!;
    const items = sim.catalog.sourceItems.filter((i) => i.sku === sku);
    sim.catalog.updateProduct(sku, { name: `Synced ${sku}` }, new Date());
    sim.catalog.saveSourceItems(
      {
        sourceItems: items.map(({ sku, source_code, quantity, status }) => ({
          sku,
          source_code,
          quantity,
          status,
        })),
      },
      new Date(),
    );
    const stock = items.map(stockId);
    await waitFor(
      async () =>
        (await local('products', String(id)))?.data.name === `Synced ${sku}` &&
        (await Promise.all(stock.map((s) => local('stock', s)))).every((r) => r !== undefined),
    );
    return { sku, id: String(id), stock };
  }

  it('applies product, customer and order changes at once, not by the queued backstop', async () => {
    const since = await lastDelivery();
    const { body: touched } = await adminJson<{ skus: string[] }>(sim.url, 'POST', '/catalog/touch', {
      count: 5,
    });
    const productIds = touched.skus.map((sku) => sim.catalog.findProduct(sku)!.id);
    const customers = (
      await adminJson<{ ids: number[] }>(sim.url, 'POST', '/catalog/touch', { count: 3, entity: 'customers' })
    ).body.ids;
    const orders = (
      await adminJson<{ ids: number[] }>(sim.url, 'POST', '/catalog/touch', { count: 3, entity: 'orders' })
    ).body.ids;
    await waitFor(
      async () =>
        (await matchesStore('products', productIds)) &&
        (await matchesStore('customers', customers)) &&
        (await matchesStore('orders', orders)),
      // The queued job waits 5 s before it looks: applied before that, the accepting process did it.
      // How fast is the bench's question (npm run bench -- webhooks), not this test's.
      4_000,
    );
    await settle();
    const sent = await deliveries(since);
    expect(sent).toHaveLength(11);
    expect(new Set(sent.map((d) => d.eventName))).toEqual(
      new Set([
        'observer.catalog_product_save_after',
        'observer.customer_save_after',
        'observer.sales_order_save_after',
      ]),
    );
    expect(sent.every((d) => d.status === 200)).toBe(true);
    expect(await t.connector.records.count(store, 'products')).toBe(5);
  });

  it('applies a stock (source item) change, keyed as the stock sync keys it', async () => {
    const since = await lastDelivery();
    const item = sim.catalog.sourceItems[0]!;
    const quantity = item.quantity + 7;
    sim.catalog.saveSourceItems(
      { sourceItems: [{ sku: item.sku, source_code: item.source_code, quantity, status: 1 }] },
      new Date(),
    );
    const id = `${encodeURIComponent(item.source_code)}/${item.sku}`;
    await waitFor(
      async () => (await t.connector.records.get(store, 'stock', id))?.data.quantity === quantity,
      5_000,
    );
    await settle();
    const sent = await deliveries(since);
    expect(sent.map((d) => [d.eventName, d.entityId, d.status])).toEqual([
      ['observer.cataloginventory_stock_item_save_after', id, 200],
    ]);
    // Only the pair asked for, though the search reads by sku and source together.
    expect(await t.connector.records.count(store, 'stock')).toBe(1);
  });

  it('applies each duplicated delivery once', async () => {
    await faults({ duplicate: 1 });
    const since = await lastDelivery();
    await adminJson(sim.url, 'POST', '/catalog/touch', { count: 4 });
    await settle();
    await faults({ duplicate: 0 });
    const sent = await deliveries(since);
    const duplicates = sent.filter((d) => d.fault === 'duplicate');
    expect(duplicates).toHaveLength(4);
    expect(sent.every((d) => d.status === 200)).toBe(true);
    const ids = new Set(sent.map((d) => d.eventId));
    expect(ids.size).toBe(4);
    await waitFor(() => [...ids].every((id) => appliedEventIds(t.logs).includes(id)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const applied = appliedEventIds(t.logs).filter((id) => ids.has(id));
    expect(applied.sort()).toEqual([...ids].sort());
  });

  it('keeps the newest version when deliveries arrive out of order', async () => {
    await faults({ out_of_order: 1 });
    const since = await lastDelivery();
    const sku = sim.catalog.products[7]!.sku;
    // Two edits of one product, a second apart so their updated_at differ; the first is held back.
    sim.catalog.updateProduct(sku, { name: 'First edit' }, new Date(Date.now() - 1_000));
    sim.catalog.updateProduct(sku, { name: 'Second edit' }, new Date());
    await settle();
    await faults({ out_of_order: 0 });
    const sent = (await deliveries(since)).filter((d) => d.entity === 'products');
    expect(sent.map((d) => d.fault)).toEqual(['out_of_order', undefined]);
    // The first edit's webhook went out after the second's.
    expect(sent[0]!.sentAt!).toBeGreaterThanOrEqual(sent[1]!.sentAt!);
    const id = String(sim.catalog.findProduct(sku)!.id);
    await waitFor(
      async () => (await t.connector.records.get(store, 'products', id))?.data.name === 'Second edit',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await t.connector.records.get(store, 'products', id))?.data.name).toBe('Second edit');
  });

  it('applies through the queued job what could not be applied at once (the store did not answer)', async () => {
    const since = await lastDelivery();
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/', errorRate: 1 }] });
    const sku = sim.catalog.products[25]!.sku;
    const id = String(sim.catalog.findProduct(sku)!.id);
    sim.catalog.updateProduct(sku, { name: 'Applied by the backstop' }, new Date());
    await settle();
    expect((await deliveries(since)).map((d) => d.status)).toEqual([200]);
    await waitFor(() => t.logs.join('').includes('webhook change not applied yet'), 15_000);
    expect((await t.connector.records.get(store, 'products', id))?.data.name).not.toBe(
      'Applied by the backstop',
    );
    await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    await waitFor(
      async () =>
        (await t.connector.records.get(store, 'products', id))?.data.name === 'Applied by the backstop',
      20_000,
    );
  }, 40_000);

  it('refuses deliveries with a bad signature and applies nothing from them', async () => {
    await faults({ bad_signature: 1 });
    const since = await lastDelivery();
    const before = appliedEventIds(t.logs).length;
    const sku = sim.catalog.products[20]!.sku;
    const id = String(sim.catalog.findProduct(sku)!.id);
    const kept = await t.connector.records.get(store, 'products', id);
    sim.catalog.updateProduct(sku, { name: 'Changed, but its webhook is refused' }, new Date());
    await settle();
    await faults({ bad_signature: 0 });
    const sent = await deliveries(since);
    expect(sent.map((d) => [d.fault, d.status])).toEqual([['bad_signature', 401]]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The previous test's last application may log after `before` was read: only this delivery counts.
    expect(appliedEventIds(t.logs).slice(before)).not.toContain(sent[0]!.eventId);
    expect(await t.connector.records.get(store, 'products', id)).toEqual(kept);
  });

  it('tombstones a product deleted in the store, and its source items, keeping their data', async () => {
    const { sku, id, stock } = await syncedProduct(12);
    expect(stock.length).toBeGreaterThan(0);
    const before = await Promise.all([local('products', id), ...stock.map((s) => local('stock', s))]);
    const since = await lastDelivery();
    sim.catalog.deleteProduct(sku);
    const after = async () => Promise.all([local('products', id), ...stock.map((s) => local('stock', s))]);
    await waitFor(async () => (await after()).every((r) => r?.deletedAt !== undefined));
    expect((await after()).map((r) => r?.data)).toEqual(before.map((r) => r?.data));
    await settle();
    expect((await deliveries(since)).map((d) => [d.eventName, d.entityId, d.status])).toEqual([
      ['observer.catalog_product_delete_after', id, 200],
      ...stock.map((s) => ['observer.cataloginventory_stock_item_delete_after', s, 200]),
    ]);
  });

  it('tombstones a customer deleted in the store', async () => {
    const customer = sim.catalog.customers[4]!;
    const id = String(customer.id);
    const { email, firstname } = customer;
    sim.catalog.updateCustomer(customer.id, { email, firstname, lastname: 'Soon deleted' }, new Date());
    await waitFor(async () => (await local('customers', id))?.data.lastname === 'Soon deleted');
    const since = await lastDelivery();
    expect((await adminJson(sim.url, 'DELETE', `/customers/${id}`)).status).toBe(204);
    await waitFor(async () => (await local('customers', id))?.deletedAt !== undefined);
    expect((await local('customers', id))?.data.lastname).toBe('Soon deleted');
    await settle();
    expect((await deliveries(since)).map((d) => [d.eventName, d.entityId, d.status])).toEqual([
      ['observer.customer_delete_after', id, 200],
    ]);
  });

  it('keeps a record whose delete event, validly signed, names a row the store still has', async () => {
    const { sku, id } = await syncedProduct(3);
    const kept = await local('products', id);
    const since = await lastDelivery();
    // The store's own key signs a deletion that did not happen (a replay, a bug, a forged payload).
    sim.webhooks.notify({
      entity: 'products',
      action: 'deleted',
      key: sku,
      row: sim.catalog.findProduct(sku)!,
      at: new Date(),
    });
    await settle();
    const [sent] = await deliveries(since);
    expect([sent?.eventName, sent?.status]).toEqual(['observer.catalog_product_delete_after', 200]);
    // The connector read the store, which still lists the row: the job reads again later.
    await waitFor(() => readTooEarly(t.logs, sent!.eventId));
    expect(await local('products', id)).toEqual(kept);
    expect(appliedEventIds(t.logs)).not.toContain(sent!.eventId);
  });

  it('applies a duplicated delete delivery once', async () => {
    const { sku, id } = await syncedProduct(5);
    await faults({ duplicate: 1 });
    const since = await lastDelivery();
    sim.catalog.deleteProduct(sku);
    await settle();
    await faults({ duplicate: 0 });
    const sent = (await deliveries(since)).filter((d) => d.entity === 'products');
    expect(sent.map((d) => [d.eventName, d.fault ?? null, d.status])).toEqual([
      ['observer.catalog_product_delete_after', null, 200],
      ['observer.catalog_product_delete_after', 'duplicate', 200],
    ]);
    const eventId = sent[0]!.eventId;
    await waitFor(() => appliedEventIds(t.logs).includes(eventId));
    const deletedAt = (await local('products', id))?.deletedAt;
    expect(deletedAt).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(appliedEventIds(t.logs).filter((e) => e === eventId)).toHaveLength(1);
    expect((await local('products', id))?.deletedAt).toBe(deletedAt);
  });
});
