import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../../src/simulator/server.js';
import type { WebhookDelivery } from '../../../src/simulator/webhooks/webhook-sender.js';
import { setWebhookSettings } from '../../../src/sync/webhooks/webhook-settings.js';
import { adminJson } from '../../helpers/http.js';
import { linkTestConnector, type TestConnector } from '../../helpers/linked-connector.js';
import { waitFor } from '../../helpers/webhooks.js';

/**
 * A Commerce webhook has no event id: the receiver dedupes on sha256(body). A source item whose quantity
 * goes 10 -> 17 -> 10 sends the same bytes for the first and third change (no updated_at in a source item
 * payload): the third is a genuine change and must be applied, not answered "duplicate" because the first
 * one's id is still remembered (the local record would keep 17 while the store has 10).
 */
describe('a genuine change whose payload equals an earlier, applied one', () => {
  let sim: RunningSimulator;
  let t: TestConnector;
  let store: string;

  beforeAll(async () => {
    ({ sim, t, store } = await linkTestConnector(
      { products: 5, customers: 1, orders: 1 },
      {
        SYNC_INTERVALS: 'products=0,customers=0,orders=0,stock=0,customer_groups=0,shipments=0,categories=0',
      },
    ));
    const { body } = await adminJson<{ public_key: string }>(sim.url, 'GET', '/webhooks');
    await setWebhookSettings(t.connector.storage.integrations, store, { commercePublicKey: body.public_key });
    await adminJson(sim.url, 'POST', '/webhooks/subscriptions', {
      url: `${t.connector.url}/magento/webhooks/${store}`,
    });
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  it('is applied (stock back to its earlier quantity)', async () => {
    const item = sim.catalog.sourceItems[0]!;
    const id = `${encodeURIComponent(item.source_code)}/${item.sku}`;
    const save = (quantity: number) =>
      sim.catalog.saveSourceItems(
        { sourceItems: [{ sku: item.sku, source_code: item.source_code, quantity, status: 1 }] },
        new Date(),
      );
    const local = async () => (await t.connector.records.get(store, 'stock', id))?.data.quantity;
    save(10);
    await waitFor(async () => (await local()) === 10, 5_000);
    save(17);
    await waitFor(async () => (await local()) === 17, 5_000);
    save(10); // e.g. a cancelled order puts the stock back
    await adminJson(sim.url, 'POST', '/webhooks/idle', {});
    const sent = (await adminJson<WebhookDelivery[]>(sim.url, 'GET', '/webhooks/deliveries?since_id=0')).body;
    expect(sent).toHaveLength(3);
    expect(sent[2]!.status).toBe(200); // the store was told "received"
    // Well past the fast path and the 5 s queued backstop.
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    expect(item.quantity).toBe(10);
    expect(await local()).toBe(10); // not 17
  });
});
