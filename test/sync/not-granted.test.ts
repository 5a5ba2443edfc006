import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO_RESOURCES } from '../../src/cli/demo-data.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { SyncRun } from '../../src/sync/sync-service.js';
import { MAGENTO2_ENTITIES } from '../../src/sync/magento2/channel.js';
import { startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';

const ORDERS = 'Magento_Sales::actions_view';
/** Far enough ahead that every scheduled interval has passed. */
const LATER = () => Date.now() + 30 * 86_400_000;

let sim: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 6, customers: 3, orders: 4 });
  t = await startTestConnector();
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

async function activated(name: string, resources: readonly string[]) {
  const created = await adminJson<{ id: number; consumer_key: string }>(sim.url, 'POST', '/integrations', {
    name,
    endpoint_url: `${t.connector.url}/magento/callback`,
    identity_link_url: `${t.connector.url}/magento/identity`,
    resources,
  });
  await adminJson(sim.url, 'POST', `/integrations/${created.body.id}/activate`);
  await t.connector.activation.settled(created.body.consumer_key);
  return { id: created.body.id, key: created.body.consumer_key };
}

/** The newest run per entity, once every entity has one newer than `after`. */
async function runsAfter(key: string, after: string): Promise<Map<string, SyncRun>> {
  for (;;) {
    await t.connector.sync.idle();
    const latest = new Map<string, SyncRun>();
    for (const run of await t.connector.sync.listRuns(key))
      if (!latest.has(run.entity)) latest.set(run.entity, run);
    if (MAGENTO2_ENTITIES.every((e) => (latest.get(e)?.startedAt ?? '') > after)) return latest;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('an entity the store did not grant', () => {
  it('is "not granted": no alert, not scheduled again until the store activates anew; granted, it syncs', async () => {
    const started = new Date().toISOString();
    const { id, key } = await activated(
      'Without orders',
      DEMO_RESOURCES.filter((r) => r !== ORDERS),
    );
    const first = await runsAfter(key, started);
    expect(first.get('orders')).toMatchObject({ ok: false, notGranted: true });
    expect(first.get('orders')?.error).toMatch(/isn't authorized to access Magento_Sales::actions_view/);
    expect(first.get('products')).toMatchObject({ ok: true });
    expect(first.get('products')?.notGranted).toBeUndefined();
    expect(await t.connector.sync.alerts()).toEqual([]);
    // The token works: only the entity is refused.
    expect((await t.connector.storage.integrations.get(key))?.status).toBe('active');

    // The scheduler passes over it, however long it waits; the other entities are due.
    const queued = await t.connector.sync.scheduleDue(LATER());
    expect(queued.map((j) => j.entity)).not.toContain('orders');
    expect(queued.map((j) => j.entity)).toContain('products');
    await t.connector.sync.idle();
    expect((await t.connector.sync.listRuns(key)).filter((r) => r.entity === 'orders')).toHaveLength(1);

    // Granted in the store, then reauthorized: the new activation syncs it.
    sim.integrations.get(id).resources.push(ORDERS);
    const reauthorized = new Date().toISOString();
    await adminJson(sim.url, 'POST', `/integrations/${id}/reauthorize`);
    await t.connector.activation.settled(key);
    const after = await runsAfter(key, reauthorized);
    expect(after.get('orders')).toMatchObject({ ok: true, counts: { read: 4 } });
    expect(after.get('orders')?.notGranted).toBeUndefined();
    expect(await t.connector.records.count(key, 'orders')).toBe(4);
    expect((await t.connector.sync.scheduleDue(LATER())).map((j) => j.entity)).toContain('orders');
    await t.connector.sync.idle();
    expect(await t.connector.sync.alerts()).toEqual([]);
  });

  it('is scheduled again once the store activated the integration after the refusal', async () => {
    const [record] = (await t.connector.storage.integrations.list()).filter((r) => r.status === 'active');
    const key = record!.consumerKey;
    const last = (await t.connector.sync.listRuns(key)).find((r) => r.entity === 'orders')!;
    // The last orders run, refused after the current activation: passed over.
    await t.connector.storage
      .documents<SyncRun>('sync_runs')
      .put({ ...last, ok: false, notGranted: true, error: 'HTTP 401: refused' });
    expect((await t.connector.sync.scheduleDue(LATER())).map((j) => j.entity)).not.toContain('orders');
    await t.connector.sync.idle();
    // An activation after that refusal (the grants may have changed): due again.
    await t.connector.storage.integrations.update(key, (r) => ({
      ...r,
      activatedAt: new Date().toISOString(),
    }));
    expect((await t.connector.sync.scheduleDue(LATER())).map((j) => j.entity)).toContain('orders');
    await t.connector.sync.idle();
  });

  it('the demo integration grants every entity the connector syncs', async () => {
    // The demo's own integration is on another store: a second one here would be a reset of the first.
    const demoStore = await startSimulator({ port: 0, products: 3, customers: 2, orders: 2 });
    try {
      const started = new Date().toISOString();
      const created = await adminJson<{ id: number; consumer_key: string }>(
        demoStore.url,
        'POST',
        '/integrations',
        {
          name: 'Demo connector',
          endpoint_url: `${t.connector.url}/magento/callback`,
          identity_link_url: `${t.connector.url}/magento/identity`,
          resources: DEMO_RESOURCES,
        },
      );
      await adminJson(demoStore.url, 'POST', `/integrations/${created.body.id}/activate`);
      await t.connector.activation.settled(created.body.consumer_key);
      const runs = await runsAfter(created.body.consumer_key, started);
      expect([...runs.values()].filter((r) => !r.ok).map((r) => `${r.entity}: ${r.error}`)).toEqual([]);
    } finally {
      await demoStore.close();
    }
  });
});
