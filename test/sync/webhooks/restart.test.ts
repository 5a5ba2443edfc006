import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../../src/simulator/server.js';
import { setWebhookSettings } from '../../../src/sync/webhooks/webhook-settings.js';
import { startTestConnector } from '../../helpers/connector.js';
import { adminJson } from '../../helpers/http.js';
import { linkTestConnector, type TestConnector } from '../../helpers/linked-connector.js';
import { waitFor } from '../../helpers/webhooks.js';

let sim: RunningSimulator;
let first: TestConnector;
let second: TestConnector | undefined;
let store: string;

beforeAll(async () => {
  ({
    sim,
    t: first,
    store,
  } = await linkTestConnector(
    { products: 10, customers: 1, orders: 1 },
    { SYNC_INTERVALS: 'products=0,customers=0,orders=0' },
  ));
});
afterAll(async () => {
  await second?.close();
  await sim.close();
  await rm(first.dataDir, { recursive: true, force: true });
});

describe('an acknowledged webhook', () => {
  it('is applied after a restart when the process that took it could not apply it', async () => {
    const { body } = await adminJson<{ public_key: string }>(sim.url, 'GET', '/webhooks');
    await setWebhookSettings(first.connector.storage.integrations, store, {
      commercePublicKey: body.public_key,
    });
    await adminJson(sim.url, 'POST', '/webhooks/subscriptions', {
      url: `${first.connector.url}/magento/webhooks/${store}`,
    });
    // The store's REST API is down: the delivery is acknowledged (stored) but cannot be applied now.
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/', errorRate: 1 }] });
    const sku = sim.catalog.products[3]!.sku;
    const id = String(sim.catalog.findProduct(sku)!.id);
    sim.catalog.updateProduct(sku, { name: 'Survives a restart' }, new Date());
    await adminJson(sim.url, 'POST', '/webhooks/idle', {});
    const [delivery] = (await adminJson<{ status: number }[]>(sim.url, 'GET', '/webhooks/deliveries')).body;
    expect(delivery?.status).toBe(200);
    await waitFor(() => first.logs.join('').includes('webhook change not applied yet'), 15_000);
    // Stopped before its queued job ran (it waits 5 s); the job stays in the data folder.
    await first.connector.close();
    await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    second = await startTestConnector({
      SYNC_INTERVALS: 'products=0,customers=0,orders=0',
      DATA_DIR: first.dataDir,
    });
    // The log line comes after the write: wait for it, then read the record.
    await waitFor(() => second!.logs.join('').includes('webhook changes applied'), 20_000);
    expect((await second.connector.records.get(store, 'products', id))?.data.name).toBe('Survives a restart');
  }, 40_000);
});
