import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { MagentoClient } from '../../src/magento/client.js';
import { ImsTokenProvider } from '../../src/magento/ims-token.js';

/**
 * Magento answers 401 for an ACL refusal ("The consumer isn't authorized to access %resources") as well
 * as for a token it does not accept, with the same message. The bearer client drops the shared IMS token
 * on a 401, so without a limit one entity whose resource is not granted would make one IMS token request
 * per store call, and drop the token every other entity of that credential is using: the 401 storm
 * contract §12 says to avoid (IMS throttles token requests).
 */
let tokenRequests = 0;
let storeCalls = 0;
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.url!.startsWith('/ims/')) {
    tokenRequests++;
    res.end(JSON.stringify({ access_token: `t${tokenRequests}`, token_type: 'bearer', expires_in: 86_400 }));
    return;
  }
  storeCalls++;
  res.statusCode = 401;
  res.end(
    JSON.stringify({
      message: "The consumer isn't authorized to access %resources.",
      parameters: { resources: 'Magento_Sales::actions_view' },
    }),
  );
});
let base: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  tokenRequests = 0;
  storeCalls = 0;
});

function clientOn(now?: () => number) {
  const bearer = new ImsTokenProvider({
    tokenUrl: `${base}/ims/token/v3`,
    clientId: 'c',
    clientSecret: 's',
    scopes: 'commerce.accs',
    ...(now ? { now } : {}),
  });
  return new MagentoClient({ storeBaseUrl: `${base}/tenant/`, bearer, restPath: '', retry: { limit: 0 } });
}

it('an ACL 401 repeated 20 times does not make 20 IMS token requests', async () => {
  const client = clientOn();
  for (let i = 0; i < 20; i++) await client.get('V1/orders').catch(() => undefined);
  expect(storeCalls).toBe(20);
  expect(tokenRequests).toBe(1);
});

it('401s drop a token only once it is a minute old: at most one token request a minute', async () => {
  let offsetMs = 0;
  const client = clientOn(() => Date.now() + offsetMs);
  for (let i = 0; i < 10; i++) await client.get('V1/orders').catch(() => undefined);
  expect(tokenRequests).toBe(1);
  offsetMs += 59_000;
  for (let i = 0; i < 10; i++) await client.get('V1/orders').catch(() => undefined);
  expect(tokenRequests).toBe(1);
  // A minute on, the token may be the problem (withdrawn at IMS): one new one, then a minute's rest.
  offsetMs += 2_000;
  for (let i = 0; i < 10; i++) await client.get('V1/orders').catch(() => undefined);
  expect(tokenRequests).toBe(2);
  offsetMs += 30_000;
  for (let i = 0; i < 10; i++) await client.get('V1/orders').catch(() => undefined);
  expect(tokenRequests).toBe(2);
  offsetMs += 31_000;
  await client.get('V1/orders').catch(() => undefined);
  await client.get('V1/orders').catch(() => undefined);
  expect(tokenRequests).toBe(3);
  expect(storeCalls).toBe(42);
});
