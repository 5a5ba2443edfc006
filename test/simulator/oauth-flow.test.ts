import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { activate, createIntegration, exchange } from '../helpers/activation.js';
import type { CallbackServer } from '../helpers/callback-server.js';
import { expectNoNonceReused, startStoreAndEndpoint } from '../helpers/simulator.js';
import { adminJson } from '../helpers/http.js';
import { parseForm, signedRequest } from '../helpers/oauth-client.js';

const MAGENTO_TOKEN = /^[0-9a-z]{32}$/;
let sim: RunningSimulator;
let callback: CallbackServer;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ sim, callback, close } = await startStoreAndEndpoint({ products: 60, customers: 10, orders: 10 }));
});
afterAll(() => close());

describe('activation, token exchange and signed REST, end to end', () => {
  it('posts Magento-shaped credentials, exchanges them and accepts signed calls', async () => {
    const integration = await createIntegration(sim.url, callback);
    expect(integration.consumer_key).toMatch(MAGENTO_TOKEN);
    expect(integration.consumer_secret).toMatch(MAGENTO_TOKEN);
    expect(integration.status_label).toBe('Inactive');

    const { result, fields } = await activate(sim.url, callback, integration.id);
    const posted = callback.received.at(-1)!;
    expect(posted.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.keys(fields).sort()).toEqual([
      'oauth_consumer_key',
      'oauth_consumer_secret',
      'oauth_verifier',
      'store_base_url',
    ]);
    expect(fields.oauth_consumer_key).toBe(integration.consumer_key);
    expect(fields.oauth_consumer_secret).toBe(integration.consumer_secret);
    expect(fields.oauth_verifier).toMatch(MAGENTO_TOKEN);
    expect(fields.store_base_url).toBe(`${sim.url}/`);
    // Magento appends `?` and jQuery-encodes the two parameters, key first.
    expect(result.popup?.url).toBe(
      `http://127.0.0.1:9/magento/identity?oauth_consumer_key=${integration.consumer_key}&success_call_back=` +
        encodeURIComponent(`${sim.url}/admin/admin/integration/loginSuccessCallback/`),
    );

    // Not Active until the access token is issued.
    expect(
      (await adminJson<{ status_label: string }>(sim.url, 'GET', `/integrations/${integration.id}`)).body
        .status_label,
    ).toBe('Inactive');
    const creds = await exchange(sim.url, fields);
    expect(creds.token).toMatch(MAGENTO_TOKEN);
    expect(creds.tokenSecret).toMatch(MAGENTO_TOKEN);
    expect(
      (await adminJson<{ status_label: string }>(sim.url, 'GET', `/integrations/${integration.id}`)).body
        .status_label,
    ).toBe('Active');

    const configs = await signedRequest(sim.url, creds, {
      method: 'GET',
      path: '/rest/V1/store/storeConfigs',
    });
    expect(configs.status).toBe(200);
    expect(JSON.parse(configs.body)[0].base_url).toBe(`${sim.url}/`);

    // Nested searchCriteria with characters that break naive signers; the value must also arrive intact.
    const tricky = "a b+c*d~e!'()é ✓";
    const search = await signedRequest(sim.url, creds, {
      method: 'GET',
      path: '/rest/default/V1/products',
      query: [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'name'],
        ['searchCriteria[filter_groups][0][filters][0][value]', tricky],
        ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'eq'],
        ['searchCriteria[filter_groups][1][filters][0][field]', 'sku'],
        ['searchCriteria[filter_groups][1][filters][0][value]', ''],
        ['searchCriteria[filter_groups][1][filters][0][condition_type]', 'neq'],
        ['searchCriteria[pageSize]', '5'],
      ],
    });
    expect(search.status).toBe(200);
    const envelope = JSON.parse(search.body);
    expect(envelope.search_criteria.filter_groups[0].filters[0].value).toBe(tricky);
    expect(envelope.search_criteria.filter_groups[1].filters[0].value).toBe('');
    expect(envelope).toHaveProperty('total_count');

    // JSON bodies are never part of the signature.
    const list = JSON.parse(
      (
        await signedRequest(sim.url, creds, {
          method: 'GET',
          path: '/rest/V1/products',
          query: [['searchCriteria[pageSize]', '1']],
        })
      ).body,
    );
    const sku: string = list.items[0].sku;
    const put = await signedRequest(sim.url, creds, {
      method: 'PUT',
      path: `/rest/V1/products/${encodeURIComponent(sku)}`,
      json: { product: { name: 'Renamed by test', price: 12.5 } },
    });
    expect(put.status).toBe(200);
    const updated = JSON.parse(put.body);
    expect(updated.name).toBe('Renamed by test');
    expect(updated.price).toBe(12.5);
    const get = await signedRequest(sim.url, creds, {
      method: 'GET',
      path: `/rest/V1/products/${encodeURIComponent(sku)}`,
    });
    expect(JSON.parse(get.body).name).toBe('Renamed by test');
  });

  it('records every nonce and never accepts one twice', async () => {
    const nonces = await adminJson<{ nonce: string; consumerId: number }[]>(sim.url, 'GET', '/nonces');
    expect(nonces.body.length).toBeGreaterThanOrEqual(6);
    await expectNoNonceReused(sim.url);
    const log = await adminJson<{ outcome: string; endpoint: string }[]>(
      sim.url,
      'GET',
      '/oauth-log?outcome=verified',
    );
    expect(log.body.map((e) => e.endpoint)).toEqual(
      expect.arrayContaining(['request_token', 'access_token', 'rest']),
    );
  });

  it('answers token requests as form-encoded text/html, like Magento', async () => {
    const integration = await createIntegration(sim.url, callback);
    const { fields } = await activate(sim.url, callback, integration.id);
    const res = await signedRequest(
      sim.url,
      { consumerKey: fields.oauth_consumer_key!, consumerSecret: fields.oauth_consumer_secret! },
      { method: 'POST', path: '/oauth/token/request' },
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(Object.keys(parseForm(res.body))).toEqual(['oauth_token', 'oauth_token_secret']);
  });
});
