import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { watchActivation } from '../../src/contract/activation-watch.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';

let sim: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 2, customers: 1, orders: 1 });
  t = await startTestConnector();
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

const watch = (timeoutMs: number, identityTimeoutMs = 300) =>
  watchActivation({
    activation: t.connector.activation,
    integrations: t.connector.storage.integrations,
    storeOrigin: new URL(sim.url).origin,
    timeoutMs,
    identityTimeoutMs,
  });

describe('the activation watch', () => {
  it('fails, explaining the likely causes, when no callback arrives in time', async () => {
    const { results, record } = await watch(400);
    expect(record).toBeUndefined();
    expect(results).toEqual([
      expect.objectContaining({
        id: 'activation.callback',
        status: 'fail',
        cause: expect.stringMatching(/cannot reach the endpoint URL/),
      }),
    ]);
  });

  it('passes the token steps and warns of an identity-link popup nobody completed', async () => {
    const created = await adminJson<{ id: number }>(sim.url, 'POST', '/integrations', {
      name: 'Watch',
      endpoint_url: `${t.connector.url}/magento/callback`,
      identity_link_url: `${t.connector.url}/magento/identity`,
      all_resources: true,
    });
    const watching = watch(5000);
    await adminJson(sim.url, 'POST', `/integrations/${created.body.id}/activate`);
    const { results, record } = await watching;
    expect(record?.status).toBe('active');
    expect(results.map((r) => `${r.id}:${r.status}`)).toEqual([
      'activation.callback:pass',
      'activation.request-token:pass',
      'activation.access-token:pass',
      'activation.identity-link:warn',
      'activation.success-callback:warn',
    ]);
  });
});
