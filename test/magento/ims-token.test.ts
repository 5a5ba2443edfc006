import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { MagentoClient } from '../../src/magento/client.js';
import { MagentoAuthError } from '../../src/magento/errors.js';
import { ImsTokenError, ImsTokenProvider, sharedImsTokenProvider } from '../../src/magento/ims-token.js';
import { PRODUCTION_OUTBOUND } from '../../src/magento/outbound-guard.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { adminJson, rawRequest } from '../helpers/http.js';

const TENANT = 'tenant42';
const CLIENT_ID = 'ims-token-test-client';
const SECRET = 'p8e-ims-token-test-secret-0001';
const LIFE_S = 100;

let sim: RunningSimulator;
let tokenUrl: string;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    products: 12,
    customers: 1,
    orders: 1,
    saas: { tenantId: TENANT },
    imsTokenSeconds: LIFE_S,
    imsClients: [{ clientId: CLIENT_ID, clientSecret: SECRET }],
  });
  tokenUrl = `${sim.url}/ims/token/v3`;
});
afterAll(() => sim.close());

/** Token requests the simulator's IMS answered with 200 so far. */
const issued = () => sim.ims.requests.filter((r) => r.status === 200).length;

/** A REST call to the tenant with this Bearer token: the store's verdict on it. */
const restStatus = async (token: string) =>
  (
    await rawRequest(sim.url, {
      method: 'GET',
      path: `/${TENANT}/V1/store/storeConfigs`,
      headers: { authorization: `Bearer ${token}` },
    })
  ).status;

/** A provider on a clock the test moves, in step with the simulator's. */
function provider(overrides: Partial<ConstructorParameters<typeof ImsTokenProvider>[0]> = {}) {
  let offsetMs = 0;
  const p = new ImsTokenProvider({
    tokenUrl,
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    scopes: 'openid,AdobeID,commerce.accs',
    now: () => Date.now() + offsetMs,
    ...overrides,
  });
  return {
    p,
    advance(seconds: number) {
      offsetMs += seconds * 1000;
      sim.clock.advance(seconds);
    },
  };
}

beforeEach(() => {
  sim.ims.requests.length = 0;
});

describe('IMS client-credentials tokens', () => {
  it('fetches a token the store accepts, and reuses it while it is fresh', async () => {
    const { p } = provider();
    const first = await p.token();
    expect(await restStatus(first)).toBe(200);
    expect(await p.token()).toBe(first);
    expect(await p.token()).toBe(first);
    expect(issued()).toBe(1);
    expect(p.requests).toBe(1);
  });

  it('refreshes before expiry (the old token still valid), not after', async () => {
    const { p, advance } = provider();
    const first = await p.token();
    // Default margin: a quarter of the life (25 s of 100 s). At 70 s it is kept.
    advance(70);
    expect(await p.token()).toBe(first);
    expect(issued()).toBe(1);
    // At 80 s, inside the margin: a new token, while the store still takes the old one.
    advance(10);
    expect(await restStatus(first)).toBe(200);
    const second = await p.token();
    expect(second).not.toBe(first);
    expect(issued()).toBe(2);
    expect(await restStatus(second)).toBe(200);
    // The old one then expires at the store, as IMS tokens do.
    advance(25);
    expect(await restStatus(first)).toBe(401);
    expect(await restStatus(second)).toBe(200);
  });

  it('makes one token request for many concurrent callers, at first and at refresh', async () => {
    const { p, advance } = provider();
    const tokens = await Promise.all(Array.from({ length: 25 }, () => p.token()));
    expect(new Set(tokens).size).toBe(1);
    expect(issued()).toBe(1);
    advance(90);
    const refreshed = await Promise.all(Array.from({ length: 25 }, () => p.token()));
    expect(new Set(refreshed).size).toBe(1);
    expect(refreshed[0]).not.toBe(tokens[0]);
    expect(issued()).toBe(2);
  });

  it('keeps a still-valid token when a refresh fails, and fails once it has expired', async () => {
    await adminJson(sim.url, 'POST', '/ims/clients', {
      client_id: 'short-lived-client',
      client_secret: 'short-lived-secret-0000',
    });
    const { p, advance } = provider({
      clientId: 'short-lived-client',
      clientSecret: 'short-lived-secret-0000',
    });
    const first = await p.token();
    // IMS forgets the client (deleted in the console): refreshes are refused.
    expect((await adminJson(sim.url, 'DELETE', '/ims/clients/short-lived-client')).status).toBe(204);
    advance(80);
    expect(await p.token()).toBe(first);
    advance(25);
    const error = await p.token().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImsTokenError);
    expect(error).toMatchObject({ status: 400, imsError: 'invalid_client' });
  });

  it.each([
    ['a wrong secret', { clientSecret: 'p8e-not-the-secret-000000' }, 401, 'invalid_client', /client_secret/],
    ['an unknown client', { clientId: 'nobody-here' }, 400, 'invalid_client', /client_id/],
    ['scopes without commerce.accs', { scopes: 'openid,AdobeID' }, 400, 'invalid_scope', /commerce\.accs/],
  ])('says what IMS refused: %s', async (_name, overrides, status, imsError, hint) => {
    const { p } = provider(overrides);
    const error = (await p.token().catch((e: unknown) => e)) as ImsTokenError;
    expect(error).toBeInstanceOf(ImsTokenError);
    expect(error).toMatchObject({ status, imsError, code: 'IMS_TOKEN' });
    expect(error.message).toMatch(hint);
    // The secret sent is never in the message.
    expect(error.message).not.toContain((overrides as { clientSecret?: string }).clientSecret ?? SECRET);
    expect(p.expiresAt).toBeUndefined();
  });

  it('in production posts the client secret over https only, unless the endpoint is listed', async () => {
    const { p } = provider({ outbound: PRODUCTION_OUTBOUND });
    const error = await p.token().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImsTokenError);
    expect((error as Error).message).toMatch(/over plain http/);
    expect(sim.ims.requests).toHaveLength(0);
    const listed = provider({ outbound: { ...PRODUCTION_OUTBOUND, allowlist: [new URL(sim.url).host] } });
    expect(await restStatus(await listed.p.token())).toBe(200);
  });

  it('reports an endpoint that is not IMS', async () => {
    const { p } = provider({ tokenUrl: `${sim.url}/${TENANT}/V1/store/storeConfigs` });
    const error = await p.token().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImsTokenError);
  });
});

describe('a Bearer MagentoClient on an IMS token', () => {
  it('shares one provider per IMS client in the process', () => {
    const credentials = { tokenUrl, clientId: CLIENT_ID, clientSecret: SECRET, scopes: 'commerce.accs' };
    expect(sharedImsTokenProvider({ ...credentials })).toBe(sharedImsTokenProvider({ ...credentials }));
  });

  it('calls {base}V1/... with Authorization: Bearer, and after a refused token fetches one new token', async () => {
    const { p, advance } = provider({ scopes: 'commerce.accs' });
    const client = new MagentoClient({
      storeBaseUrl: `${sim.url}/${TENANT}/`,
      bearer: p,
      restPath: '',
      retry: { limit: 0 },
    });
    expect(client.url('V1/products')).toBe(`${sim.url}/${TENANT}/V1/products`);
    const page = await client.get<{ total_count: number }>('V1/products', {
      searchParams: [['searchCriteria[pageSize]', '5']],
    });
    expect(page.total_count).toBe(12);
    expect(issued()).toBe(1);

    // IMS withdraws every token. Within a minute of fetching it the token is kept (the store's 401
    // may be an ungranted resource, which a new token would not change): no token request.
    await adminJson(sim.url, 'POST', '/ims/revoke', {});
    const early = await Promise.allSettled(
      Array.from({ length: 4 }, () => client.get('V1/store/storeConfigs')),
    );
    expect(early.every((r) => r.status === 'rejected' && r.reason instanceof MagentoAuthError)).toBe(true);
    expect(issued()).toBe(1);
    // A minute on: a burst of calls is refused, then one refresh serves them all.
    advance(61);
    const refused = await Promise.allSettled(
      Array.from({ length: 8 }, () => client.get('V1/store/storeConfigs')),
    );
    expect(refused.every((r) => r.status === 'rejected' && r.reason instanceof MagentoAuthError)).toBe(true);
    const again = await Promise.all(Array.from({ length: 8 }, () => client.get('V1/store/storeConfigs')));
    expect(again).toHaveLength(8);
    expect(issued()).toBe(2);
  });
});
