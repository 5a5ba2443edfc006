import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { STATUS } from '../../src/simulator/state.js';
import { adminJson, rawRequest } from '../helpers/http.js';
import { signedRequest } from '../helpers/oauth-client.js';
import { manualIntegration } from '../helpers/simulator.js';

const TENANT = 'acme-tenant';
const CLIENT = { clientId: 'saas-mode-client', clientSecret: 'saas-mode-secret-000000' };
const ACL_REFUSED = "The consumer isn't authorized to access %resources.";

let saas: RunningSimulator;
let paas: RunningSimulator;

beforeAll(async () => {
  saas = await startSimulator({
    port: 0,
    products: 5,
    customers: 1,
    orders: 1,
    saas: { tenantId: TENANT },
    imsTokenSeconds: 60,
    imsClients: [CLIENT],
    // Even with standalone Bearer integration tokens switched on, SaaS takes only IMS tokens.
    bearer: true,
  });
  paas = await startSimulator({ port: 0, products: 5, customers: 1, orders: 1 });
});
afterAll(async () => {
  await saas.close();
  await paas.close();
});

async function imsToken(base: string, form: Record<string, string>) {
  const res = await rawRequest(base, {
    method: 'POST',
    path: '/ims/token/v3',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, json: JSON.parse(res.body) as Record<string, unknown> };
}

const goodForm = {
  grant_type: 'client_credentials',
  client_id: CLIENT.clientId,
  client_secret: CLIENT.clientSecret,
  scope: 'openid,AdobeID,commerce.accs',
};

const get = (path: string, authorization?: string) =>
  rawRequest(saas.url, {
    method: 'GET',
    path,
    headers: authorization ? { authorization } : {},
  });

describe('the simulator IMS token endpoint', () => {
  it('issues {access_token, token_type, expires_in} for registered client credentials', async () => {
    const { status, json } = await imsToken(saas.url, goodForm);
    expect(status).toBe(200);
    expect(json).toMatchObject({ token_type: 'bearer', expires_in: 60 });
    expect(typeof json.access_token).toBe('string');
    expect((json.access_token as string).length).toBeGreaterThan(40);
  });

  it.each([
    ['wrong secret', { client_secret: 'not-the-secret-000000' }, 401, 'invalid_client'],
    ['unknown client', { client_id: 'who-is-this' }, 400, 'invalid_client'],
    ['no commerce.accs scope', { scope: 'openid,AdobeID' }, 400, 'invalid_scope'],
    ['another grant', { grant_type: 'authorization_code' }, 400, 'unsupported_grant_type'],
  ])('refuses a %s with an IMS-style error', async (_name, change, status, error) => {
    const answer = await imsToken(saas.url, { ...goodForm, ...change });
    expect(answer.status).toBe(status);
    expect(answer.json).toMatchObject({ error });
    expect(typeof answer.json.error_description).toBe('string');
    expect(answer.json).not.toHaveProperty('access_token');
  });

  it('registers clients through the admin API, without ever listing their secrets', async () => {
    const created = await adminJson<{ client_id: string; client_secret: string }>(
      saas.url,
      'POST',
      '/ims/clients',
      {},
    );
    expect(created.status).toBe(201);
    const token = await imsToken(saas.url, {
      ...goodForm,
      client_id: created.body.client_id,
      client_secret: created.body.client_secret,
    });
    expect(token.status).toBe(200);
    const list = await adminJson<{ client_id: string }[]>(saas.url, 'GET', '/ims/clients');
    expect(list.body.map((c) => c.client_id)).toContain(created.body.client_id);
    expect(JSON.stringify(list.body)).not.toContain(created.body.client_secret);
    const bad = await adminJson(saas.url, 'POST', '/ims/clients', { client_secret: 'short' });
    expect(bad.status).toBe(400);
  });
});

describe('SaaS mode (Adobe Commerce as a Cloud Service)', () => {
  it('serves REST under /<tenant-id>/V1 to a valid IMS Bearer token', async () => {
    const { json } = await imsToken(saas.url, goodForm);
    const res = await get(
      `/${TENANT}/V1/products?searchCriteria[pageSize]=2`,
      `Bearer ${String(json.access_token)}`,
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ total_count: 5 });
  });

  it('refuses calls without a Bearer token, with a made-up one, and with an expired one', async () => {
    const { json } = await imsToken(saas.url, goodForm);
    const token = String(json.access_token);
    for (const auth of [
      undefined,
      'Bearer not-an-ims-token',
      `Basic ${Buffer.from('a:b').toString('base64')}`,
    ]) {
      const res = await get(`/${TENANT}/V1/store/storeConfigs`, auth);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ message: ACL_REFUSED });
    }
    expect((await get(`/${TENANT}/V1/store/storeConfigs`, `Bearer ${token}`)).status).toBe(200);
    saas.clock.advance(61);
    expect((await get(`/${TENANT}/V1/store/storeConfigs`, `Bearer ${token}`)).status).toBe(401);
  });

  it('refuses integration activation, and integration tokens whether signed or as Bearer', async () => {
    const created = await adminJson<{ id: number; consumer_key: string; consumer_secret: string }>(
      saas.url,
      'POST',
      '/integrations',
      { name: 'Would-be integration', all_resources: true },
    );
    expect(created.status).toBe(201);
    const activated = await adminJson<{ error: string }>(
      saas.url,
      'POST',
      `/integrations/${created.body.id}/activate`,
      {},
    );
    expect(activated.status).toBe(400);
    expect(activated.body.error).toMatch(/not supported in Adobe Commerce as a Cloud Service/);
    expect(saas.state.tokenByConsumer(saas.integrations.get(created.body.id).consumerId)).toBeUndefined();

    // Tokens that would work on a PaaS store (made here behind the admin's back) authenticate no one.
    const integration = saas.integrations.get(created.body.id);
    integration.status = STATUS.active;
    const token = saas.state.createToken(integration.consumerId, 'access');
    const creds = {
      consumerKey: created.body.consumer_key,
      consumerSecret: created.body.consumer_secret,
      token: token.token,
      tokenSecret: token.secret,
    };
    const signed = await signedRequest(saas.url, creds, {
      method: 'GET',
      path: `/${TENANT}/V1/store/storeConfigs`,
    });
    expect(signed.status).toBe(401);
    expect(JSON.parse(signed.body)).toMatchObject({ message: ACL_REFUSED });
    expect((await get(`/${TENANT}/V1/store/storeConfigs`, `Bearer ${token.token}`)).status).toBe(401);

    // The PaaS routes do not exist there.
    const viaRest = await signedRequest(saas.url, creds, {
      method: 'GET',
      path: '/rest/V1/store/storeConfigs',
    });
    expect(viaRest.status).toBe(404);
    const tokenEndpoint = await rawRequest(saas.url, { method: 'POST', path: '/oauth/token/request' });
    expect(tokenEndpoint.status).toBe(404);
    expect(tokenEndpoint.body).toMatch(/not supported/);
  });

  it('leaves a PaaS simulator as it was: OAuth on /rest, no tenant path, IMS tokens no good there', async () => {
    const { credentials } = await manualIntegration(paas.url, 'all');
    const ok = await signedRequest(paas.url, credentials, {
      method: 'GET',
      path: '/rest/V1/store/storeConfigs',
    });
    expect(ok.status).toBe(200);
    const tenantPath = await signedRequest(paas.url, credentials, {
      method: 'GET',
      path: `/${TENANT}/V1/store/storeConfigs`,
    });
    expect(tenantPath.status).toBe(404);
    paas.ims.register('paas-client-x', 'paas-client-secret-0000');
    const { json } = await imsToken(paas.url, {
      ...goodForm,
      client_id: 'paas-client-x',
      client_secret: 'paas-client-secret-0000',
    });
    const bearer = await rawRequest(paas.url, {
      method: 'GET',
      path: '/rest/V1/store/storeConfigs',
      headers: { authorization: `Bearer ${String(json.access_token)}` },
    });
    expect(bearer.status).toBe(401);
  });

  it('refuses a tenant id that would shadow its own routes', async () => {
    await expect(startSimulator({ port: 0, saas: { tenantId: 'admin' } })).rejects.toThrow(/Tenant id/);
    await expect(startSimulator({ port: 0, saas: { tenantId: 'a b' } })).rejects.toThrow(/Tenant id/);
  });
});
