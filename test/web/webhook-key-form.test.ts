import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { csrfOf, DEMO_EMAIL, loggedInAgent } from '../helpers/connector.js';
import { linkTestConnector, type TestConnector } from '../helpers/linked-connector.js';
import { rsaPair } from '../helpers/webhooks.js';

let sim: RunningSimulator;
let t: TestConnector;
let key: string;

beforeAll(async () => {
  ({
    sim,
    t,
    store: key,
  } = await linkTestConnector(
    { products: 2, customers: 1, orders: 1 },
    { SYNC_INTERVALS: 'products=0,customers=0,orders=0' },
  ));
  const demo = await t.connector.storage.users.getByEmail(DEMO_EMAIL);
  await t.connector.storage.integrations.update(key, (r) => ({ ...r, userId: demo!.id }));
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

describe('the dashboard’s webhook key form', () => {
  it('sets a valid key, refuses a private one with the reason, removes it; needs its CSRF token', async () => {
    const agent = await loggedInAgent(t.connector.url);
    const page = await agent.get('/');
    expect(page.text).toContain(`/magento/webhooks/${key}`);
    const csrf = csrfOf(page.text);
    const pem = rsaPair().publicPem;

    await agent
      .post(`/integrations/${key}/webhook-key`)
      .type('form')
      .send({ commerce_public_key: pem })
      .expect(403);
    expect((await t.connector.storage.integrations.get(key))?.webhooks).toBeUndefined();

    const set = await agent
      .post(`/integrations/${key}/webhook-key`)
      .type('form')
      .set('accept', 'application/json')
      .send({ _csrf: csrf, commerce_public_key: pem });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ commerceKey: true });
    expect((await t.connector.storage.integrations.get(key))?.webhooks?.commercePublicKey).toBe(pem.trim());

    const refused = await agent
      .post(`/integrations/${key}/webhook-key`)
      .type('form')
      .set('accept', 'application/json')
      .send({
        _csrf: csrf,
        commerce_public_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
      });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/private key/);
    expect((await t.connector.storage.integrations.get(key))?.webhooks?.commercePublicKey).toBe(pem.trim());

    await agent
      .post(`/integrations/${key}/webhook-key`)
      .type('form')
      .send({ _csrf: csrf, commerce_public_key: '', clear: '1' })
      .expect(303);
    expect((await t.connector.storage.integrations.get(key))?.webhooks).toBeUndefined();
  });
});
