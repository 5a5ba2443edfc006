import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { IntegrationRecord } from '../../src/storage/types.js';
import { DEMO_EMAIL, DEMO_PASSWORD, startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';

/**
 * Two users and the admin (the demo user) over real HTTP: A linked store 1 and B store 2 through the
 * identity link; each sees and operates only their own, the admin all.
 */
// Two stores, so two simulators: a second integration on one store would be a Reset of the first.
let simA: RunningSimulator;
let simB: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;
let keyA: string;
let keyB: string;
const PASSWORD = 'a long enough password';
const A = 'ann@example.com';
const B = 'bob@example.com';

type Agent = ReturnType<typeof request.agent>;
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function loggedIn(email: string, password = PASSWORD): Promise<Agent> {
  const agent = request.agent(t.connector.url);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfOf(page.text), email, password });
  expect(res.status).toBe(303);
  return agent;
}

async function activatedStore(sim: RunningSimulator, name: string): Promise<string> {
  const created = await adminJson<{ id: number; consumer_key: string }>(sim.url, 'POST', '/integrations', {
    name,
    endpoint_url: `${t.connector.url}/magento/callback`,
    identity_link_url: `${t.connector.url}/magento/identity`,
    resources: ['Magento_Backend::stores', 'Magento_Catalog::products'],
  });
  await adminJson(sim.url, 'POST', `/integrations/${created.body.id}/activate`);
  await t.connector.activation.settled(created.body.consumer_key);
  return created.body.consumer_key;
}

/** Logs in through the store's identity link (the popup), which ties the store to this user. */
async function linkThroughIdentity(sim: RunningSimulator, key: string, email: string) {
  const agent = request.agent(t.connector.url);
  const back = `${sim.url}/admin/integrations/done`;
  const page = await agent.get(
    `/magento/identity?oauth_consumer_key=${key}&success_call_back=${encodeURIComponent(back)}`,
  );
  expect(page.status).toBe(200);
  const res = await agent
    .post('/magento/identity')
    .type('form')
    .send({
      _csrf: csrfOf(page.text),
      oauth_consumer_key: key,
      success_call_back: back,
      email,
      password: PASSWORD,
    });
  expect(res.status).toBe(303);
}

const keysOf = (body: { integrations: { consumerKey: string }[] }) =>
  body.integrations.map((i) => i.consumerKey).sort();

beforeAll(async () => {
  simA = await startSimulator({ port: 0, products: 3, customers: 1, orders: 1 });
  simB = await startSimulator({ port: 0, products: 2, customers: 1, orders: 1 });
  t = await startTestConnector();
  await t.connector.accounts.createUser(A, PASSWORD);
  await t.connector.accounts.createUser(B, PASSWORD);
  keyA = await activatedStore(simA, 'Store of A');
  keyB = await activatedStore(simB, 'Store of B');
  await linkThroughIdentity(simA, keyA, A);
  await linkThroughIdentity(simB, keyB, B);
  await t.connector.sync.idle();
}, 60_000);
afterAll(async () => {
  await t.close();
  await simA.close();
  await simB.close();
});

describe('stores belong to the user who linked them', () => {
  it('the identity link tied each store to its user', async () => {
    const users = await t.connector.storage.users.list();
    const idOf = (email: string) => users.find((u) => u.email === email)?.id;
    expect((await t.connector.storage.integrations.get(keyA))?.userId).toBe(idOf(A));
    expect((await t.connector.storage.integrations.get(keyB))?.userId).toBe(idOf(B));
  });

  it('lists only their own stores to a user, every store to the admin', async () => {
    const b = await loggedIn(B);
    expect(keysOf((await b.get('/api/integrations')).body)).toEqual([keyB]);
    const page = await b.get('/');
    expect(page.text).toContain(keyB);
    expect(page.text).not.toContain(keyA);

    const a = await loggedIn(A);
    expect(keysOf((await a.get('/api/integrations')).body)).toEqual([keyA]);

    const admin = await loggedIn(DEMO_EMAIL, DEMO_PASSWORD);
    expect(keysOf((await admin.get('/api/integrations')).body)).toEqual([keyA, keyB].sort());
    const adminPage = await admin.get('/');
    expect(adminPage.text).toContain(keyA);
    expect(adminPage.text).toContain(keyB);
  });

  it('shows a user only the alerts of their own stores', async () => {
    // A refused products run raises an alert for each store.
    for (const [sim, key] of [
      [simA, keyA],
      [simB, keyB],
    ] as const) {
      await adminJson(sim.url, 'PUT', '/faults', {
        rules: [{ route: '/rest/V1/products', refuseRate: 1, oauthProblem: 'Refused for the test' }],
      });
      await t.connector.sync.enqueue(key, 'products');
      await t.connector.sync.idle();
      await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    }
    const storeKeys = (body: { alerts: { storeKey: string }[] }) => [
      ...new Set(body.alerts.map((x) => x.storeKey)),
    ];
    const b = await loggedIn(B);
    expect(storeKeys((await b.get('/api/alerts')).body)).toEqual([keyB]);
    const admin = await loggedIn(DEMO_EMAIL, DEMO_PASSWORD);
    expect(storeKeys((await admin.get('/api/alerts')).body).sort()).toEqual([keyA, keyB].sort());
  });

  it("answers 404, as for an unknown key, when a user tests, syncs or schedules another user's store", async () => {
    const b = await loggedIn(B);
    const token = csrfOf((await b.get('/')).text);
    const before: IntegrationRecord | undefined = await t.connector.storage.integrations.get(keyA);
    const unknown = await b
      .post(`/integrations/${'z'.repeat(32)}/check`)
      .type('form')
      .set('Accept', 'application/json')
      .send({ _csrf: token });
    expect(unknown.status).toBe(404);
    for (const action of ['check', 'sync', 'sync-intervals']) {
      const res = await b
        .post(`/integrations/${keyA}/${action}`)
        .type('form')
        .set('Accept', 'application/json')
        .send({ _csrf: token, products: '60' });
      expect({ action, status: res.status, body: res.body }).toEqual({
        action,
        status: 404,
        body: unknown.body,
      });
      const html = await b.post(`/integrations/${keyA}/${action}`).type('form').send({ _csrf: token });
      expect(html.status).toBe(404);
    }
    const after = await t.connector.storage.integrations.get(keyA);
    expect(after?.syncIntervals).toEqual(before?.syncIntervals);
    expect(after?.lastCheck).toEqual(before?.lastCheck);
    expect(
      (await t.connector.sync.listJobs()).filter((j) => j.storeKey === keyA && j.status === 'queued'),
    ).toEqual([]);
  });

  it('lets the owner and the admin test, sync and schedule', async () => {
    for (const [agent, products] of [
      [await loggedIn(A), 120],
      [await loggedIn(DEMO_EMAIL, DEMO_PASSWORD), 240],
    ] as const) {
      const token = csrfOf((await agent.get('/')).text);
      const check = await agent
        .post(`/integrations/${keyA}/check`)
        .type('form')
        .set('Accept', 'application/json')
        .send({ _csrf: token });
      expect(check.status).toBe(200);
      expect(check.body).toMatchObject({ ok: true });
      const sync = await agent
        .post(`/integrations/${keyA}/sync`)
        .type('form')
        .set('Accept', 'application/json')
        .send({ _csrf: token });
      expect(sync.status).toBe(202);
      const schedule = await agent
        .post(`/integrations/${keyA}/sync-intervals`)
        .type('form')
        .set('Accept', 'application/json')
        .send({ _csrf: token, products: String(products) });
      expect(schedule.status).toBe(200);
      expect((await t.connector.storage.integrations.get(keyA))?.syncIntervals).toEqual({ products });
      await t.connector.sync.idle();
    }
  });

  it('ends the sessions of a removed user', async () => {
    await t.connector.accounts.createUser('gone@example.com', PASSWORD);
    const agent = await loggedIn('gone@example.com');
    expect((await agent.get('/api/integrations')).status).toBe(200);
    await t.connector.accounts.removeUser('gone@example.com');
    expect((await agent.get('/api/integrations')).status).toBe(401);
    expect((await agent.get('/')).status).toBe(303);
  });
});

describe('unconfirmed callbacks', () => {
  const junk = (key: string, status: IntegrationRecord['status']): IntegrationRecord => {
    const now = new Date().toISOString();
    return {
      consumerKey: key,
      storeBaseUrl: 'http://junk.example/',
      storeOrigin: 'http://junk.example',
      status,
      statusReason: status === 'failed' ? 'The store refused the request token.' : undefined,
      consumerSecret: 's'.repeat(32),
      verifier: 'v'.repeat(32),
      signatureMethod: 'HMAC-SHA256',
      receivedAt: now,
      callbackCount: 1,
      createdAt: now,
      updatedAt: now,
      events: [],
      history: [],
    };
  };
  const failedKey = 'f'.repeat(32);
  const pendingKey = 'p'.repeat(32);

  beforeAll(async () => {
    await t.connector.storage.integrations.put(junk(failedKey, 'failed'));
    await t.connector.storage.integrations.put(junk(pendingKey, 'pending'));
  });

  it('are hidden from users and kept apart, collapsed with a count, for the admin', async () => {
    const a = await loggedIn(A);
    const mine = await a.get('/api/integrations');
    expect(keysOf(mine.body)).toEqual([keyA]);
    expect(mine.body.unconfirmed).toEqual([]);
    const page = await a.get('/');
    expect(page.text).not.toContain(failedKey);
    expect(page.text).not.toContain('Unconfirmed callbacks');

    const admin = await loggedIn(DEMO_EMAIL, DEMO_PASSWORD);
    const all = await admin.get('/api/integrations');
    expect(keysOf(all.body)).toEqual([keyA, keyB].sort());
    expect(all.body.unconfirmed.map((u: { consumerKey: string }) => u.consumerKey).sort()).toEqual([
      failedKey,
      pendingKey,
    ]);
    const adminPage = await admin.get('/');
    expect(adminPage.text).toMatch(
      /<details class="card wide unconfirmed" id="unconfirmed">\s*<summary>Unconfirmed callbacks \(2\)<\/summary>/,
    );
    // Listed in the collapsed section only, not as stores one could operate.
    expect(adminPage.text).not.toContain(`id="store-${failedKey}"`);
    expect(adminPage.text).not.toContain(`/integrations/${failedKey}/`);
  });
});
