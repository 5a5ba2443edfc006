import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rfc3986 } from 'oauth-sign';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { activate, createIntegration, exchange } from '../helpers/activation.js';
import type { CallbackServer } from '../helpers/callback-server.js';
import { startStoreAndEndpoint } from '../helpers/simulator.js';
import { adminJson } from '../helpers/http.js';
import { signedRequest, type Credentials, type SignedRequest } from '../helpers/oauth-client.js';

let sim: RunningSimulator;
let callback: CallbackServer;
let creds: Credentials;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ sim, callback, close } = await startStoreAndEndpoint({ products: 30, customers: 5, orders: 5 }));
  const integration = await createIntegration(sim.url, callback);
  creds = await exchange(sim.url, (await activate(sim.url, callback, integration.id)).fields);
});
afterAll(() => close());

const getProducts = (extra: Partial<SignedRequest> = {}) =>
  signedRequest(sim.url, creds, { method: 'GET', path: '/rest/V1/products', ...extra });

const useVersion = (version: string, signature?: Record<string, unknown>) =>
  adminJson(sim.url, 'PUT', '/settings', { magento_version: version, ...(signature ? { signature } : {}) });

/** Twelve filter groups: indexes 2 and 10 order differently in byte order and natural order. */
const manyGroups: [string, string][] = Array.from({ length: 12 }, (_, i): [string, string] => [
  `searchCriteria[filter_groups][${i}][filters][0][field]`,
  'sku',
]).flatMap(
  (pair, i) =>
    [
      pair,
      [`searchCriteria[filter_groups][${i}][filters][0][value]`, '%'],
      [`searchCriteria[filter_groups][${i}][filters][0][condition_type]`, 'like'],
    ] as [string, string][],
);

describe('release-specific signature behaviour', () => {
  it('2.4.8 (default) verifies RFC byte order; 2.4.6 sorts names naturally and refuses it', async () => {
    await useVersion('2.4.8');
    const ok = await getProducts({ query: manyGroups });
    expect(ok.status).toBe(200);
    await useVersion('2.4.6');
    const refused = await getProducts({ query: manyGroups });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).message).toBe('The signature is invalid. Verify and try again.');
    // The same store with only the sort switched back accepts it: the sort alone was the cause.
    await useVersion('2.4.6', { sort: 'byte' });
    expect((await getProducts({ query: manyGroups })).status).toBe(200);
    await useVersion('2.4.8');
  });

  it('2.4.6 decodes %2F in the path before signing (#37913); 2.4.8 keeps it', async () => {
    const path = `/rest/V1/products/${encodeURIComponent('ABC/10')}`;
    await useVersion('2.4.6');
    const refused = await signedRequest(sim.url, creds, { method: 'GET', path });
    expect(refused.status).toBe(401);
    await useVersion('2.4.8');
    const passed = await signedRequest(sim.url, creds, { method: 'GET', path });
    // Signature accepted; the product simply does not exist.
    expect(passed.status).toBe(404);
    expect(JSON.parse(passed.body).message).toBe(
      "The product that was requested doesn't exist. Verify the product and try again.",
    );
  });

  it('2.4.6 reads a raw + in the query as a space; 2.4.8 as a plus', async () => {
    const field = 'searchCriteria[filter_groups][0][filters][0][field]';
    const value = 'searchCriteria[filter_groups][0][filters][0][value]';
    // Signed as a literal plus, sent as a raw `+`.
    const send = () =>
      getProducts({
        query: [
          [field, 'sku'],
          [value, 'a+b'],
        ],
        rawQuery: `${rfc3986(field)}=sku&${rfc3986(value)}=a+b`,
      });
    await useVersion('2.4.6');
    expect((await send()).status).toBe(401);
    await useVersion('2.4.8');
    // The signature passes; the REST layer itself still reads `+` as a space, as PHP does.
    expect((await send()).status).toBe(200);
  });

  it('2.4.3 accepts HMAC-SHA1; 2.4.8 refuses it before the signature check', async () => {
    await useVersion('2.4.3');
    const sha1 = await getProducts({ signatureMethod: 'HMAC-SHA1' });
    expect(sha1.status).toBe(200);
    await useVersion('2.4.8');
    const refused = await getProducts({ signatureMethod: 'HMAC-SHA1' });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({
      message: 'Signature method %1 is not supported',
      parameters: ['HMAC-SHA1'],
    });
  });

  it('leaves a query item without = out of the signature, as Magento does', async () => {
    // An RFC client signs `searchCriteria=`; Magento ignores the item.
    const rfc = await getProducts({ query: [['searchCriteria', '']], rawQuery: 'searchCriteria' });
    expect(rfc.status).toBe(401);
    const magento = await getProducts({ query: [], rawQuery: 'searchCriteria' });
    expect(magento.status).toBe(200);
  });

  it('with the double-encoding backport, an RFC signature over a value with a space fails', async () => {
    const query: [string, string][] = [
      ['searchCriteria[filter_groups][0][filters][0][field]', 'name'],
      ['searchCriteria[filter_groups][0][filters][0][value]', 'two words'],
    ];
    await useVersion('2.4.8', { doubleEncodeValues: true });
    expect((await getProducts({ query })).status).toBe(401);
    await useVersion('2.4.8');
    expect((await getProducts({ query })).status).toBe(200);
  });

  it('rejects an unknown version or quirk in the settings API with 400', async () => {
    expect((await adminJson(sim.url, 'PUT', '/settings', { magento_version: '2.3.0' })).status).toBe(400);
    expect((await adminJson(sim.url, 'PUT', '/settings', { signature: { sort: 'random' } })).status).toBe(
      400,
    );
  });
});
