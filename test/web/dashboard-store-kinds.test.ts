import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { imsStoreRecord, manualIntegrationRecord } from '../../src/activation/register-store.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { DEMO_EMAIL, DEMO_PASSWORD, startTestConnector } from '../helpers/connector.js';
import { manualIntegration } from '../helpers/simulator.js';

const TENANT = 'dashtenant';
const IMS = { clientId: 'dashboard-ims-client', clientSecret: 'p8e-dashboard-secret-42x' };

let saas: RunningSimulator;
let paas: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;
let imsKey: string;
let manualKey: string;
let manualSecrets: string[];

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
  saas = await startSimulator({
    port: 0,
    products: 4,
    customers: 1,
    orders: 1,
    saas: { tenantId: TENANT },
    imsClients: [IMS],
  });
  paas = await startSimulator({ port: 0, products: 4, customers: 1, orders: 1 });
  t = await startTestConnector({ SYNC_INTERVALS: 'products=0,customers=0,orders=0' });
  const at = new Date().toISOString();
  const ims = imsStoreRecord(
    {
      restBaseUrl: `${saas.url}/${TENANT}/`,
      ...IMS,
      scopes: 'openid,commerce.accs',
      tokenUrl: `${saas.url}/ims/token/v3`,
    },
    at,
  );
  imsKey = ims.consumerKey;
  await t.connector.activation.registerActive(ims);
  const { credentials } = await manualIntegration(paas.url, 'all');
  manualSecrets = [credentials.consumerSecret, credentials.token, credentials.tokenSecret];
  const manual = manualIntegrationRecord(
    {
      storeBaseUrl: `${paas.url}/`,
      consumerKey: credentials.consumerKey,
      consumerSecret: credentials.consumerSecret,
      accessToken: credentials.token,
      accessTokenSecret: credentials.tokenSecret,
      signatureMethod: 'HMAC-SHA256',
    },
    at,
  );
  manualKey = manual.consumerKey;
  await t.connector.activation.registerActive(manual);
});
afterAll(async () => {
  await t.close();
  await saas.close();
  await paas.close();
});

describe('the dashboard with both kinds of store', () => {
  it('shows each store kind and auth mode, and no secret', async () => {
    const agent = await loggedIn();
    const api = await agent.get('/api/integrations');
    const byKey = new Map(
      (api.body.integrations as { consumerKey: string }[]).map((i) => [i.consumerKey, i] as const),
    );
    expect(byKey.get(imsKey)).toMatchObject({
      kind: 'Adobe Commerce as a Cloud Service',
      auth: 'ims-server-to-server',
      registration: 'IMS server-to-server credential',
      imsClientId: IMS.clientId,
      status: 'active',
      canCheck: true,
    });
    expect(byKey.get(manualKey)).toMatchObject({
      kind: 'Magento / Adobe Commerce (on-premises or Cloud PaaS)',
      auth: 'oauth1-integration',
      registration: 'manual integration (credentials pasted)',
      imsClientId: null,
    });
    const page = await agent.get('/');
    expect(page.text).toContain('Adobe Commerce as a Cloud Service');
    expect(page.text).toContain('ims-server-to-server');
    expect(page.text).toContain('manual integration (credentials pasted)');
    for (const secret of [IMS.clientSecret, ...manualSecrets]) {
      expect(page.text).not.toContain(secret);
      expect(JSON.stringify(api.body)).not.toContain(secret);
    }
  });

  it('tests the connection of an IMS store with a Bearer call, and syncs it now', async () => {
    const agent = await loggedIn();
    const page = await agent.get('/');
    const check = await agent
      .post(`/integrations/${imsKey}/check`)
      .set('accept', 'application/json')
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ ok: true });
    expect(check.body.answer).toContain('base_url');
    const sync = await agent
      .post(`/integrations/${imsKey}/sync`)
      .set('accept', 'application/json')
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(sync.status).toBe(202);
    await t.connector.sync.idle();
    expect(await t.connector.records.count(imsKey, 'products')).toBe(4);
  });

  it('keeps one current store per URL: a second IMS credential registered to replace it supersedes the first and drops its secret', async () => {
    const second = imsStoreRecord(
      {
        restBaseUrl: `${saas.url}/${TENANT}/`,
        clientId: 'dashboard-second-client',
        clientSecret: 'p8e-dashboard-second-77q',
        scopes: 'commerce.accs',
        tokenUrl: `${saas.url}/ims/token/v3`,
      },
      new Date(Date.now() + 1000).toISOString(),
    );
    await t.connector.activation.registerActive(second, { replace: true });
    const first = await t.connector.storage.integrations.get(imsKey);
    expect(first).toMatchObject({ status: 'superseded', supersededBy: second.consumerKey });
    expect(first?.imsClientSecret).toBeUndefined();
    expect(await t.connector.storage.integrations.get(second.consumerKey)).toMatchObject({
      status: 'active',
      imsClientSecret: 'p8e-dashboard-second-77q',
    });
    // The manual integration of the other store is untouched.
    expect((await t.connector.storage.integrations.get(manualKey))?.status).toBe('active');
  });
});
