import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { startCallbackServer } from '../helpers/callback-server.js';
import { adminJson } from '../helpers/http.js';
import { signedRequest } from '../helpers/oauth-client.js';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 5, customers: 1, orders: 1, callbackTimeoutMs: 400 });
});
afterAll(() => sim.close());

interface Activation {
  flow: string;
  popup?: { url: string };
  steps: { step: string; ok: boolean; detail: string }[];
  credentials?: {
    consumer_key: string;
    consumer_secret: string;
    access_token: string;
    access_token_secret: string;
  };
  integration: { status_label: string };
  error?: string;
}

let n = 0;
async function create(endpoint: string, identity = 'http://127.0.0.1:9/identity') {
  const res = await adminJson<{ id: number }>(sim.url, 'POST', '/integrations', {
    name: `Flow ${++n}`,
    endpoint_url: endpoint,
    identity_link_url: identity,
    all_resources: true,
  });
  return res.body.id;
}

describe('Activate, as Magento posts to the endpoint', () => {
  it('ignores the integrator answer status and opens the popup', async () => {
    const cb = await startCallbackServer({ status: 500 });
    const res = await adminJson<Activation>(
      sim.url,
      'POST',
      `/integrations/${await create(cb.url)}/activate`,
    );
    await cb.close();
    expect(res.status).toBe(200);
    expect(res.body.popup?.url).toContain('?oauth_consumer_key=');
    expect(res.body.steps.find((s) => s.step === 'callback_post')?.detail).toMatch(/answered 500/);
  });

  it('does not follow a redirect from the endpoint', async () => {
    const target = await startCallbackServer();
    const redirector = await startCallbackServer({ status: 302, location: target.url });
    const res = await adminJson<Activation>(
      sim.url,
      'POST',
      `/integrations/${await create(redirector.url)}/activate`,
    );
    expect(res.status).toBe(200);
    expect(redirector.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
    await target.close();
    await redirector.close();
  });

  it('aborts with Magento’s message, and no popup, when the endpoint refuses the connection', async () => {
    const res = await adminJson<Activation>(
      sim.url,
      'POST',
      `/integrations/${await create('http://127.0.0.1:1/callback')}/activate`,
    );
    expect(res.status).toBe(502);
    expect(res.body.error).toBe(
      'The attempt to post data to consumer failed due to an unexpected error. Please try again later.',
    );
    expect(res.body.popup).toBeUndefined();
    expect(res.body.steps.at(-1)).toMatchObject({ step: 'callback_post', ok: false });
  });

  it('aborts when the endpoint answers after the callback timeout', async () => {
    const slow = await startCallbackServer({ delayMs: 1500 });
    const res = await adminJson<Activation>(
      sim.url,
      'POST',
      `/integrations/${await create(slow.url)}/activate`,
    );
    await slow.close();
    expect(res.status).toBe(502);
    expect(res.body.steps.at(-1)?.detail).toMatch(/ETIMEDOUT|timeout/i);
  });

  it('issues the four credentials directly for a manual integration, without any POST', async () => {
    const cb = await startCallbackServer();
    const id = await create(cb.url, '');
    const res = await adminJson<Activation>(sim.url, 'POST', `/integrations/${id}/activate`);
    await cb.close();
    expect(res.body.flow).toBe('tokens');
    expect(cb.received).toHaveLength(0);
    expect(res.body.integration.status_label).toBe('Active');
    const c = res.body.credentials!;
    for (const v of Object.values(c)) expect(v).toMatch(/^[0-9a-z]{32}$/);
    const call = await signedRequest(
      sim.url,
      {
        consumerKey: c.consumer_key,
        consumerSecret: c.consumer_secret,
        token: c.access_token,
        tokenSecret: c.access_token_secret,
      },
      { method: 'GET', path: '/rest/V1/store/storeConfigs' },
    );
    expect(call.status).toBe(200);
  });

  it('re-posts the same verifier when Activate is clicked twice before the exchange', async () => {
    const cb = await startCallbackServer();
    const id = await create(cb.url);
    await adminJson(sim.url, 'POST', `/integrations/${id}/activate`);
    await adminJson(sim.url, 'POST', `/integrations/${id}/activate`);
    await cb.close();
    expect(cb.received).toHaveLength(2);
    expect(cb.received[0]!.fields.oauth_verifier).toBe(cb.received[1]!.fields.oauth_verifier);
  });
});

describe('admin API input validation', () => {
  it('refuses bad input with a clear 4xx and stores nothing', async () => {
    const before = (await adminJson<unknown[]>(sim.url, 'GET', '/integrations')).body.length;
    const badUrl = await adminJson<{ error: string }>(sim.url, 'POST', '/integrations', {
      name: 'Bad',
      endpoint_url: 'ftp://x',
    });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.error).toMatch(/endpoint_url must be an http\(s\) URL/);
    const badAcl = await adminJson<{ error: string }>(sim.url, 'POST', '/integrations', {
      name: 'Bad ACL',
      resources: ['Magento_Nope::x'],
    });
    expect(badAcl.status).toBe(400);
    expect(badAcl.body.error).toMatch(/Unknown ACL resource: Magento_Nope::x/);
    const unknownField = await adminJson(sim.url, 'POST', '/integrations', { name: 'Extra', colour: 'red' });
    expect(unknownField.status).toBe(400);
    expect((await adminJson<unknown[]>(sim.url, 'GET', '/integrations')).body.length).toBe(before);

    await adminJson(sim.url, 'POST', '/integrations', { name: 'Twice' });
    expect((await adminJson(sim.url, 'POST', '/integrations', { name: 'Twice' })).status).toBe(409);
    expect((await adminJson(sim.url, 'GET', '/integrations/99999')).status).toBe(404);
    expect((await adminJson(sim.url, 'GET', '/integrations/abc')).status).toBe(400);
  });

  it('refuses to delete a config-based integration, as Magento does', async () => {
    const res = await adminJson<{ id: number }>(sim.url, 'POST', '/integrations', {
      name: 'From config.xml',
      setup_type: 'config',
    });
    const del = await adminJson<{ error: string }>(sim.url, 'DELETE', `/integrations/${res.body.id}`);
    expect(del.status).toBe(409);
    expect(del.body.error).toBe("Uninstall the extension to remove integration 'From config.xml'.");
  });
});
