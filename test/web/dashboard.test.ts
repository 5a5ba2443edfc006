import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { DEMO_EMAIL, DEMO_PASSWORD, startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';

let sim: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;
let key: string;

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function loggedIn() {
  const agent = request.agent(t.connector.url);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfOf(page.text), email: DEMO_EMAIL, password: DEMO_PASSWORD });
  expect(res.status).toBe(303);
  return agent;
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 5, customers: 2, orders: 2 });
  t = await startTestConnector();
  const created = await adminJson<{ id: number; consumer_key: string }>(sim.url, 'POST', '/integrations', {
    name: 'Dashboard',
    endpoint_url: `${t.connector.url}/magento/callback`,
    identity_link_url: `${t.connector.url}/magento/identity`,
    resources: ['Magento_Backend::stores', 'Magento_Catalog::products'],
  });
  key = created.body.consumer_key;
  await adminJson(sim.url, 'POST', `/integrations/${created.body.id}/activate`);
  await t.connector.activation.settled(key);
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

describe('dashboard', () => {
  it('needs a login: the page redirects, the API answers 401', async () => {
    const page = await request(t.connector.url).get('/');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2F');
    const api = await request(t.connector.url).get('/api/integrations');
    expect(api.status).toBe(401);
  });

  it('lists linked stores as JSON without any secret', async () => {
    const agent = await loggedIn();
    const res = await agent.get('/api/integrations');
    expect(res.status).toBe(200);
    const [store] = res.body.integrations;
    expect(store).toMatchObject({
      consumerKey: key,
      status: 'active',
      store: new URL(sim.url).origin,
      canCheck: true,
    });
    const record = await t.connector.storage.integrations.get(key);
    const text = JSON.stringify(res.body);
    for (const secret of [
      record!.consumerSecret,
      record!.accessToken!,
      record!.accessTokenSecret!,
      record!.verifier,
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('tests the connection: a signed call, its timing, and which resources answer', async () => {
    const agent = await loggedIn();
    const page = await agent.get('/');
    const noToken = await agent.post(`/integrations/${key}/check`).type('form').send({});
    expect(noToken.status).toBe(403);
    const res = await agent
      .post(`/integrations/${key}/check`)
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(res.status).toBe(303);
    const record = await t.connector.storage.integrations.get(key);
    expect(record?.lastCheck).toMatchObject({ ok: true });
    expect(record?.lastCheck?.answer).toContain(`"base_url": "${sim.url}/"`);
    expect(record?.lastCheck?.resources).toEqual([
      { resource: 'Magento_Backend::stores', label: 'Stores', granted: true },
      { resource: 'Magento_Catalog::products', label: 'Products', granted: true },
      { resource: 'Magento_Sales::actions_view', label: 'Orders', granted: false },
      { resource: 'Magento_Customer::customer', label: 'Customers', granted: false },
      { resource: 'Magento_Customer::group', label: 'Customer groups', granted: false },
      { resource: 'Magento_Sales::shipment', label: 'Shipments', granted: false },
      { resource: 'Magento_Catalog::categories', label: 'Categories', granted: false },
      { resource: 'Magento_InventoryApi::source', label: 'Stock (source items)', granted: false },
    ]);
    const shown = await agent.get('/');
    expect(shown.text).toContain('Orders: not granted');
    const unknown = await agent
      .post(`/integrations/${'z'.repeat(32)}/check`)
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(unknown.status).toBe(404);
  });

  it('loads a linked store at once, syncs on demand, and lists open alerts in /api/alerts', async () => {
    // Activation queued the first load by itself.
    await t.connector.sync.idle();
    const agent = await loggedIn();
    const first = await agent.get('/api/integrations');
    type Sync = {
      entity: string;
      lastRun: { ok: boolean; mode: string; counts: { created: number }; notGranted: boolean } | null;
    }[];
    const initial = (first.body.integrations[0].sync as Sync).find((s) => s.entity === 'products');
    expect(initial?.lastRun).toMatchObject({ ok: true, mode: 'initial', counts: { created: 5 } });

    const page = await agent.get('/');
    const res = await agent
      .post(`/integrations/${key}/sync`)
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(res.status).toBe(303);
    await t.connector.sync.idle();
    const api = await agent.get('/api/integrations');
    const sync = api.body.integrations[0].sync as Sync;
    expect(sync.find((s) => s.entity === 'products')?.lastRun).toMatchObject({
      ok: true,
      mode: 'incremental',
      counts: { created: 0 },
    });
    // Only products (and stores) are granted to this integration: the other entities are "not granted", without alerts.
    expect(sync.map((s) => s.entity)).toEqual([
      'products',
      'customers',
      'orders',
      'customer_groups',
      'shipments',
      'categories',
      'stock',
    ]);
    expect(sync.find((s) => s.entity === 'orders')?.lastRun).toMatchObject({ ok: false, notGranted: true });
    expect(sync.filter((s) => s.lastRun?.notGranted).map((s) => s.entity)).toHaveLength(6);
    expect((await agent.get('/api/alerts')).body.alerts).toEqual([]);
    const html = (await agent.get('/')).text;
    expect(html.match(/data-field="not-granted">not granted</g)).toHaveLength(6);
    expect(html).not.toContain('Alert ×');

    // A failure that is not an ACL refusal raises an alert, counted per repeat.
    await adminJson(sim.url, 'PUT', '/faults', {
      rules: [{ route: '/rest/V1/products', refuseRate: 1, oauthProblem: 'Refused for the test' }],
    });
    try {
      for (let i = 0; i < 2; i++) {
        await t.connector.sync.enqueue(key, 'products');
        await t.connector.sync.idle();
      }
    } finally {
      await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    }
    const alerts = await agent.get('/api/alerts');
    const open = alerts.body.alerts as { entity: string; count: number; message: string }[];
    expect(open.map((a) => `${a.entity}:${a.count}`)).toEqual(['products:2']);
    expect(open[0]!.message).toMatch(/Refused for the test/);
    expect((await agent.get('/')).text).toContain('Alert ×2');
  });

  it('syncs and scans for deletions on demand: a product deleted in the store counts as deleted', async () => {
    await t.connector.sync.idle();
    const agent = await loggedIn();
    const page = await agent.get('/');
    const bad = await agent
      .post(`/integrations/${key}/sync`)
      .set('Accept', 'application/json')
      .type('form')
      .send({ _csrf: csrfOf(page.text), deletions: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^"deletions" must be 1/);
    const product = sim.catalog.products[1]!;
    sim.catalog.deleteProduct(product.sku);
    const res = await agent
      .post(`/integrations/${key}/sync`)
      .set('Accept', 'application/json')
      .type('form')
      .send({ _csrf: csrfOf(page.text), deletions: '1' });
    expect(res.status).toBe(202);
    await t.connector.sync.idle();
    const api = await agent.get('/api/integrations');
    const products = (api.body.integrations[0].sync as { entity: string; lastRun: unknown }[]).find(
      (s) => s.entity === 'products',
    );
    expect(products?.lastRun).toMatchObject({ ok: true, counts: { deleted: 1 } });
    expect(await t.connector.records.count(key, 'products')).toBe(sim.catalog.products.length);
    expect((await t.connector.records.get(key, 'products', String(product.id)))?.deletedAt).toEqual(
      expect.any(String),
    );
    const html = (await agent.get('/')).text;
    expect(html).toContain('Read / created / updated / unchanged / deleted');
    expect(html).toMatch(/\d+ \/ 0 \/ \d+ \/ \d+ \/ 1<\/td>/);
  });

  it('saves a per-store sync schedule, refusing a bad interval with 400', async () => {
    const agent = await loggedIn();
    const page = await agent.get('/');
    const token = csrfOf(page.text);
    const bad = await agent
      .post(`/integrations/${key}/sync-intervals`)
      .type('form')
      .send({ _csrf: token, products: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('The products interval must be a whole number of seconds');
    expect((await t.connector.storage.integrations.get(key))?.syncIntervals).toBeUndefined();
    const ok = await agent
      .post(`/integrations/${key}/sync-intervals`)
      .type('form')
      .send({ _csrf: token, products: '120', orders: '0', customers: '' });
    expect(ok.status).toBe(303);
    expect((await t.connector.storage.integrations.get(key))?.syncIntervals).toEqual({
      products: 120,
      orders: 0,
    });
  });
});
