import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hmacsign256 } from 'oauth-sign';
import {
  MagentoApiError,
  MagentoAuthError,
  MagentoClient,
  MagentoNetworkError,
  searchCriteria,
  type MagentoClientOptions,
  type SearchResults,
} from '../../src/magento/index.js';
import { RFC_PROFILE, type SigningProfile } from '../../src/oauth1/index.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { rejection } from '../helpers/errors.js';
import { adminJson } from '../helpers/http.js';
import { expectNoNonceReused, manualIntegration } from '../helpers/simulator.js';
import {
  closedPort,
  parseOAuthHeader,
  scriptedServer,
  type ScriptedAnswer,
  seededRandom,
  startStore,
  type StoreCredentials,
} from './store.js';

interface Product {
  sku: string;
  name: string;
  price: number;
}

let sim: RunningSimulator;
let creds: StoreCredentials;

beforeAll(async () => {
  sim = await startStore({ random: seededRandom(11) });
  ({ credentials: creds } = await manualIntegration(sim.url));
});
afterAll(() => sim.close());

function client(extra: Partial<MagentoClientOptions> = {}) {
  const failures: MagentoAuthError[] = [];
  const learned: SigningProfile[] = [];
  const c = new MagentoClient({
    storeBaseUrl: `${sim.url}/`,
    credentials: creds,
    onAuthFailure: (e) => failures.push(e),
    onSigningLearned: (p) => learned.push(p),
    retry: { baseDelayMs: 5 },
    ...extra,
  });
  return { client: c, failures, learned };
}

async function rejectedCount(): Promise<number> {
  return (await adminJson<unknown[]>(sim.url, 'GET', '/oauth-log?outcome=rejected')).body.length;
}

const NASTY_NAME = "Nasty & name + 100% = ✓ (x) it's [1]/2 #3?";
const NASTY_SKU = 'NASTY/1 +&=?#';

describe('MagentoClient against the store simulator', () => {
  it('POSTs, PUTs and GETs with nasty values in paths, JSON and searchCriteria', async () => {
    const { client: c, failures } = client();
    const created = await c.post<Product>('V1/products', {
      product: { sku: NASTY_SKU, name: NASTY_NAME, price: 10, attribute_set_id: 4, type_id: 'simple' },
    });
    expect(created.sku).toBe(NASTY_SKU);

    const path = `default/V1/products/${encodeURIComponent(NASTY_SKU)}`;
    const updated = await c.put<Product>(path, { product: { price: 12.5 } });
    expect(updated.price).toBe(12.5);
    expect((await c.get<Product>(path)).name).toBe(NASTY_NAME);

    const criteria = searchCriteria()
      .filter('name', NASTY_NAME)
      .or('sku', 'no such sku')
      .filter('price', '12.5', 'gteq')
      .sort('sku', 'ASC')
      .pageSize(5)
      .currentPage(1);
    const found = await c.get<SearchResults<Product>>('V1/products', { searchCriteria: criteria });
    expect(found.total_count).toBe(1);
    expect(found.items.map((p) => p.sku)).toEqual([NASTY_SKU]);

    const liked = await c.get<SearchResults<Product>>('V1/products', {
      searchCriteria: searchCriteria().filter('name', '%100\\% = ✓%', 'like'),
      searchParams: [['fields', 'items[sku,name],total_count']],
    });
    expect(liked.items.map((p) => p.sku)).toContain(NASTY_SKU);
    expect(failures).toEqual([]);
  });

  it('sends empty criteria as something Magento signs (no bare ?searchCriteria)', async () => {
    expect(searchCriteria().toPairs()).toEqual([['searchCriteria[currentPage]', '1']]);
    const all = await client().client.get<SearchResults<Product>>('V1/products', {
      searchCriteria: searchCriteria(),
    });
    expect(all.items.length).toBe(all.total_count);
  });

  it('turns the ACL 401 into MagentoAuthError with the resource filled in, and reports it', async () => {
    const { client: c, failures } = client();
    const error = (await rejection(
      c.get('V1/orders', { searchCriteria: searchCriteria() }),
    )) as MagentoAuthError;
    expect(error).toBeInstanceOf(MagentoAuthError);
    expect(error.status).toBe(401);
    expect(error.rawMessage).toBe("The consumer isn't authorized to access %resources.");
    expect(error.parameters).toEqual({ resources: 'Magento_Sales::actions_view' });
    expect(error.message).toMatch(/^The consumer isn't authorized to access Magento_Sales::actions_view\. /);
    expect(error.message).toContain('not Active');
    expect(error.message).toContain('Bearer');
    expect(error.url).toBe(`${sim.url}/rest/V1/orders?searchCriteria%5BcurrentPage%5D=1`);
    expect(failures).toEqual([error]);
  });

  it('turns a missing product into a 404 MagentoApiError', async () => {
    const { client: c, failures } = client();
    const error = (await rejection(c.get('V1/products/NO-SUCH-SKU'))) as MagentoApiError;
    expect(error).toBeInstanceOf(MagentoApiError);
    expect(error.code).toBe('MAGENTO_API');
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/doesn't exist|not found|does not exist/i);
    expect(failures).toEqual([]);
  });

  it('turns a closed port into MagentoNetworkError', async () => {
    const port = await closedPort();
    const c = new MagentoClient({
      storeBaseUrl: `http://127.0.0.1:${port}/`,
      credentials: creds,
      retry: { limit: 0 },
    });
    const error = (await rejection(c.get('V1/store/storeConfigs'))) as MagentoNetworkError;
    expect(error).toBeInstanceOf(MagentoNetworkError);
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('retries injected 503s with a fresh nonce on every attempt', async () => {
    const { client: c } = client({ retry: { limit: 10, baseDelayMs: 5 } });
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/', errorRate: 0.5 }] });
    try {
      const injected = async () =>
        (await adminJson<{ counters: { errors503: number } }>(sim.url, 'GET', '/faults')).body.counters
          .errors503;
      // Seeded, so the same calls meet the same faults every run; stop once some were retried.
      for (let i = 0; i < 50 && (await injected()) < 3; i++) {
        expect(await c.get<unknown[]>('V1/store/websites')).toHaveLength(2);
      }
      expect(await injected()).toBeGreaterThanOrEqual(3);
    } finally {
      await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    }
    await expectNoNonceReused(sim.url);
  });

  describe('on a 2.4.6 store', () => {
    const SKU = 'ABC/10';
    const twelveGroups = Array.from({ length: 12 }, (_, g) => g).reduce(
      (criteria, g) => criteria.filter('sku', g === 0 ? 'ABC%' : '%', 'like'),
      searchCriteria(),
    );

    beforeAll(async () => {
      await client().client.post('V1/products', { product: { sku: SKU, name: 'Slash', price: 1 } });
      await adminJson(sim.url, 'PUT', '/settings', { magento_version: '2.4.6' });
    });
    afterAll(() => adminJson(sim.url, 'PUT', '/settings', { magento_version: '2.4.8' }));

    it('learns natural order and the laminas path from one 401, then signs right the first time', async () => {
      const { client: c, learned, failures } = client();
      const path = `V1/products/${encodeURIComponent(SKU)}`;
      const before = await rejectedCount();
      const product = await c.get<Product>(path, { searchParams: twelveGroups.toPairs() });
      expect(product.sku).toBe(SKU);
      expect(learned).toEqual([{ sort: 'natural', path: 'laminas' }]);
      expect(c.signing).toEqual({ sort: 'natural', path: 'laminas' });
      // RFC, then natural order with the path as sent, were refused before the right one.
      expect((await rejectedCount()) - before).toBe(2);

      const list = await c.get<SearchResults<Product>>('V1/products', { searchCriteria: twelveGroups });
      expect(list.items.map((p) => p.sku)).toEqual([SKU]);
      expect(await c.get<Product>(path)).toMatchObject({ sku: SKU });
      expect((await rejectedCount()) - before).toBe(2);
      expect(failures).toEqual([]);
    });

    it('starts from a learned profile without a 401', async () => {
      const { client: c, learned } = client({ learnedSigning: { sort: 'natural', path: 'laminas' } });
      const before = await rejectedCount();
      await c.get(`V1/products/${encodeURIComponent(SKU)}`, { searchParams: twelveGroups.toPairs() });
      expect(await rejectedCount()).toBe(before);
      expect(learned).toEqual([]);
    });

    it('with a fixed RFC profile, reports the bad signature with the likely cause', async () => {
      const { client: c, failures, learned } = client({ signing: RFC_PROFILE });
      const error = (await rejection(
        c.get('V1/products', { searchCriteria: twelveGroups }),
      )) as MagentoAuthError;
      expect(error).toBeInstanceOf(MagentoAuthError);
      expect(error.isSignatureInvalid).toBe(true);
      expect(error.message).toContain('store base URL (scheme, host and port)');
      expect(failures).toEqual([error]);
      expect(learned).toEqual([]);
    });

    it('gets a 400 for HMAC-SHA1', async () => {
      const { client: c } = client({ signatureMethod: 'HMAC-SHA1' });
      const error = (await rejection(c.get('V1/store/websites'))) as MagentoApiError;
      expect(error).toBeInstanceOf(MagentoApiError);
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/^Signature method HMAC-SHA1 is not supported\. .*HMAC-SHA256 only/);
    });
  });

  it('calls onAuthFailure once the integration is deleted in the store', async () => {
    const { id, credentials } = await manualIntegration(sim.url);
    const { client: c, failures } = client({ credentials });
    expect(await c.get<unknown[]>('V1/store/websites')).toHaveLength(2);
    expect((await adminJson(sim.url, 'DELETE', `/integrations/${id}`)).status).toBe(204);
    const error = await rejection(c.get('V1/store/websites'));
    expect(error).toBeInstanceOf(MagentoAuthError);
    expect(failures).toEqual([error]);
    expect((error as MagentoAuthError).message).toContain('deleted or reset');
  });
});

describe('MagentoClient signing on the wire (scripted store)', () => {
  it('signs the redirected request again, for its own URL', async () => {
    const store = await scriptedServer((req): ScriptedAnswer =>
      req.url.startsWith('/rest/V1/a')
        ? { status: 302, headers: { location: '/rest/V1/b?x=1%202' } }
        : { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' },
    );
    try {
      const c = new MagentoClient({ storeBaseUrl: `${store.url}/`, credentials: creds });
      expect(await c.get('V1/a', { searchParams: { q: 'a b' } })).toEqual({ ok: true });
      expect(store.seen.map((r) => r.url)).toEqual(['/rest/V1/a?q=a%20b', '/rest/V1/b?x=1%202']);
      const [first, second] = store.seen.map((r) => parseOAuthHeader(r.headers.authorization));
      expect(first?.oauth_nonce).not.toBe(second?.oauth_nonce);
      const { oauth_signature: signature, ...oauth } = second as Record<string, string>;
      expect(
        hmacsign256(
          'GET',
          `${store.url}/rest/V1/b`,
          { ...oauth, x: '1 2' },
          creds.consumerSecret,
          creds.tokenSecret,
        ),
      ).toBe(signature);
    } finally {
      await store.close();
    }
  });

  it('refuses to follow a redirect to another origin with credentials', async () => {
    const other = await scriptedServer(() => ({ status: 200, body: '{}' }));
    const store = await scriptedServer(() => ({
      status: 301,
      headers: { location: `${other.url}/rest/V1/a` },
    }));
    try {
      const c = new MagentoClient({ storeBaseUrl: `${store.url}/`, credentials: creds });
      const error = (await rejection(c.get('V1/a'))) as MagentoApiError;
      expect(error).toBeInstanceOf(MagentoApiError);
      expect(error.message).toContain(`use ${other.url} in the store base URL`);
      expect(other.seen).toHaveLength(0);
    } finally {
      await store.close();
      await other.close();
    }
  });

  it('retries a GET on 500 and a POST only on 503/429, never on other 4xx', async () => {
    let status = 500;
    const store = await scriptedServer(() => ({
      status,
      body: '{"message":"Internal Error. Report ID: %1","parameters":["x"]}',
    }));
    try {
      const c = new MagentoClient({
        storeBaseUrl: `${store.url}/`,
        credentials: creds,
        retry: { limit: 2, baseDelayMs: 1 },
      });
      const getError = (await rejection(c.get('V1/a'))) as MagentoApiError;
      expect(getError.status).toBe(500);
      expect(getError.message).toBe('Internal Error. Report ID: x');
      expect(store.seen).toHaveLength(3);
      await rejection(c.post('V1/a', { a: 1 }));
      expect(store.seen).toHaveLength(4);
      status = 503;
      await rejection(c.post('V1/a', { a: 1 }));
      expect(store.seen).toHaveLength(7);
      status = 400;
      await rejection(c.put('V1/a', { a: 1 }));
      expect(store.seen).toHaveLength(8);
      // JSON bodies are never signed: the body field is not in the base string.
      const last = store.seen.at(-1);
      const { oauth_signature: signature, ...oauth } = parseOAuthHeader(last?.headers.authorization);
      expect(last?.body).toBe('{"a":1}');
      expect(
        hmacsign256('PUT', `${store.url}/rest/V1/a`, oauth, creds.consumerSecret, creds.tokenSecret),
      ).toBe(signature);
    } finally {
      await store.close();
    }
  });
});
