import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  checkStoreCredentials,
  imsStoreRecord,
  manualIntegrationRecord,
} from '../../src/activation/register-store.js';
import { checkStoreUrl, outboundPolicyFor } from '../../src/activation/store-url-policy.js';
import { MagentoClient } from '../../src/magento/client.js';
import {
  defaultOutboundPolicy,
  DEVELOPMENT_OUTBOUND,
  PRODUCTION_OUTBOUND,
  setDefaultOutboundPolicy,
  type OutboundPolicy,
} from '../../src/magento/outbound-guard.js';
import { exchangeTokens } from '../../src/magento/token-exchange.js';
import { startTestConnector } from '../helpers/connector.js';
import { rejection } from '../helpers/errors.js';

/** A "store" on loopback that counts what reaches it: anything reaching it is an SSRF. */
let server: Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
    res.end('oauth_token=t&oauth_token_secret=s');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  hits = 0;
  setDefaultOutboundPolicy(DEVELOPMENT_OUTBOUND);
});

/** Answers a public address the first time, loopback every time after (DNS rebinding). */
function rebindingResolver() {
  const asked: string[] = [];
  const resolve = async (host: string) => {
    asked.push(host);
    return asked.length === 1 ? ['93.184.216.34'] : ['127.0.0.1'];
  };
  return { resolve, asked };
}

const exchange = (storeBaseUrl: string, outbound?: OutboundPolicy) =>
  exchangeTokens({
    storeBaseUrl,
    consumerKey: 'k'.repeat(32),
    consumerSecret: 's'.repeat(32),
    verifier: 'v'.repeat(32),
    deadline: new Date(Date.now() + 60_000),
    retry: { limit: 1, baseDelayMs: 1 },
    outbound,
  });

const credentials = { consumerKey: 'k', consumerSecret: 's', token: 't', tokenSecret: 'u' };

describe('outbound calls check the address at connect time', () => {
  it('refuses the connection when the name rebinds to 127.0.0.1 after the callback check', async () => {
    const { resolve, asked } = rebindingResolver();
    const policy = { production: true, allowlist: [], resolve };
    // The callback-time check sees the public address and accepts.
    expect(await checkStoreUrl('https://rebind.example/', policy)).toBeNull();
    const error = (await rejection(
      exchange(`http://rebind.example:${port}/`, outboundPolicyFor(policy)),
    )) as {
      code: string;
      message: string;
    };
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(error.code).toBe('MAGENTO_ADDRESS_REFUSED');
    expect(error.message).toMatch(/127\.0\.0\.1/);
    expect(hits).toBe(0);
  });

  it('refuses the REST client the same way', async () => {
    const { resolve } = rebindingResolver();
    await resolve('rebind.example');
    const client = new MagentoClient({
      storeBaseUrl: `http://rebind.example:${port}/`,
      credentials,
      outbound: { ...PRODUCTION_OUTBOUND, resolve },
      retry: { limit: 0 },
    });
    const error = (await rejection(client.get('V1/products'))) as { code: string };
    expect(error.code).toBe('MAGENTO_ADDRESS_REFUSED');
    expect(hits).toBe(0);
  });

  it('refuses an IP-literal store, which skips the lookup', async () => {
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]']) {
      const error = (await rejection(exchange(`http://${host}:${port}/`, PRODUCTION_OUTBOUND))) as {
        code: string;
      };
      expect(error.code).toBe('MAGENTO_ADDRESS_REFUSED');
    }
    expect(hits).toBe(0);
  });

  it('lets an allowlisted store resolve anywhere, and the development policy reach loopback', async () => {
    const resolve = async () => ['127.0.0.1'];
    await exchange(`http://listed.example:${port}/`, {
      refusePrivate: true,
      allowlist: [`listed.example:${port}`],
      resolve,
    });
    await exchange(`http://dev.example:${port}/`, { ...DEVELOPMENT_OUTBOUND, resolve });
    expect(hits).toBe(4);
  });

  it('uses the process default when no policy is passed', async () => {
    setDefaultOutboundPolicy(PRODUCTION_OUTBOUND);
    const error = (await rejection(exchange(`http://127.0.0.1:${port}/`))) as { code: string };
    expect(error.code).toBe('MAGENTO_ADDRESS_REFUSED');
    expect(hits).toBe(0);
  });
});

describe("npm run store's credential check", () => {
  it('follows the outbound policy it is given: in production, no call to a loopback store or IMS endpoint', async () => {
    const at = new Date().toISOString();
    const manual = manualIntegrationRecord(
      {
        storeBaseUrl: `http://127.0.0.1:${port}/`,
        consumerKey: 'a'.repeat(32),
        consumerSecret: 'b'.repeat(32),
        accessToken: 'c'.repeat(32),
        accessTokenSecret: 'd'.repeat(32),
        signatureMethod: 'HMAC-SHA256',
      },
      at,
    );
    const refused = await checkStoreCredentials(manual, { outbound: PRODUCTION_OUTBOUND });
    expect(refused).toMatchObject({ ok: false, message: expect.stringMatching(/Refused to connect/) });
    const ims = imsStoreRecord(
      {
        restBaseUrl: `https://93.184.216.34/tenant/`,
        clientId: 'cid',
        clientSecret: 'secret',
        scopes: 'commerce.accs',
        tokenUrl: `http://127.0.0.1:${port}/ims/token/v3`,
      },
      at,
    );
    const imsRefused = await checkStoreCredentials(ims, { outbound: PRODUCTION_OUTBOUND });
    expect(imsRefused).toMatchObject({ ok: false, message: expect.stringMatching(/plain http/) });
    expect(hits).toBe(0);
    // The development policy reaches the loopback store.
    await checkStoreCredentials(manual, { outbound: DEVELOPMENT_OUTBOUND });
    expect(hits).toBe(1);
  });
});

describe('a production connector', () => {
  it('makes connect-time checks the default for calls to stores while it runs', async () => {
    const prod = await startTestConnector({ NODE_ENV: 'production', TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) });
    try {
      expect(defaultOutboundPolicy().refusePrivate).toBe(true);
      const error = (await rejection(exchange(`http://127.0.0.1:${port}/`))) as { code: string };
      expect(error.code).toBe('MAGENTO_ADDRESS_REFUSED');
      expect(hits).toBe(0);
    } finally {
      await prod.close();
    }
    expect(defaultOutboundPolicy().refusePrivate).toBe(false);
  });
});
