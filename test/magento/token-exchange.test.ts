import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hmacsign256 } from 'oauth-sign';
import {
  MagentoApiError,
  MagentoAuthError,
  MagentoClient,
  MagentoExpiredError,
  MagentoNetworkError,
  exchangeTokens,
  type ExchangeStepEvent,
} from '../../src/magento/index.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { activate, createIntegration } from '../helpers/activation.js';
import { startCallbackServer, type CallbackServer } from '../helpers/callback-server.js';
import { rejection } from '../helpers/errors.js';
import { adminJson } from '../helpers/http.js';
import { expectNoNonceReused } from '../helpers/simulator.js';
import { closedPort, parseOAuthHeader, scriptedServer, seededRandom, startStore } from './store.js';

let sim: RunningSimulator;
let callback: CallbackServer;

beforeAll(async () => {
  sim = await startStore({ random: seededRandom(7) });
  callback = await startCallbackServer();
});
afterAll(async () => {
  await sim.close();
  await callback.close();
});

/** Creates and activates an exchange-flow integration; returns what the store POSTed to us. */
async function activated() {
  const integration = await createIntegration(sim.url, callback);
  const { fields } = await activate(sim.url, callback, integration.id);
  return { id: integration.id, fields, receivedAt: new Date() };
}

function input(fields: Record<string, string>, extra: Partial<Parameters<typeof exchangeTokens>[0]> = {}) {
  const steps: ExchangeStepEvent[] = [];
  return {
    steps,
    input: {
      storeBaseUrl: fields.store_base_url as string,
      consumerKey: fields.oauth_consumer_key as string,
      consumerSecret: fields.oauth_consumer_secret as string,
      verifier: fields.oauth_verifier as string,
      deadline: new Date(Date.now() + 300_000),
      onStep: (e: ExchangeStepEvent) => steps.push(e),
      retry: { baseDelayMs: 5 },
      ...extra,
    },
  };
}

describe('exchangeTokens against the store simulator', () => {
  it('gets an access token that signs REST calls, and the integration turns Active', async () => {
    const { id, fields } = await activated();
    const { input: args, steps } = input(fields);
    const tokens = await exchangeTokens(args);
    expect(tokens.accessToken).toMatch(/^[0-9a-z]{32}$/);
    expect(tokens.accessTokenSecret).toMatch(/^[0-9a-z]{32}$/);
    expect(steps).toEqual([
      { step: 'request_token', attempt: 1, ok: true, detail: 'HTTP 200' },
      { step: 'access_token', attempt: 1, ok: true, detail: 'HTTP 200' },
    ]);
    const status = await adminJson<{ status_label: string }>(sim.url, 'GET', `/integrations/${id}`);
    expect(status.body.status_label).toBe('Active');

    const client = new MagentoClient({
      storeBaseUrl: args.storeBaseUrl,
      credentials: {
        consumerKey: args.consumerKey,
        consumerSecret: args.consumerSecret,
        token: tokens.accessToken,
        tokenSecret: tokens.accessTokenSecret,
      },
    });
    expect(await client.get<unknown[]>('V1/store/storeConfigs')).toHaveLength(1);
  });

  it("surfaces the store's oauth_problem for a wrong verifier, without retrying the 401", async () => {
    const { fields } = await activated();
    const { input: args, steps } = input(fields, { verifier: 'z'.repeat(32) });
    const error = await rejection(exchangeTokens(args));
    expect(error).toBeInstanceOf(MagentoAuthError);
    const auth = error as MagentoAuthError;
    expect(auth.code).toBe('MAGENTO_AUTH');
    expect(auth.status).toBe(401);
    expect(auth.problem).toBe('Token verifier and verifier token do not match');
    expect(auth.message).toMatch(/^Token verifier and verifier token do not match\. .*latest callback/);
    expect(auth.url).toBe(`${sim.url}/oauth/token/access`);
    expect(steps).toEqual([
      { step: 'request_token', attempt: 1, ok: true, detail: 'HTTP 200' },
      { step: 'access_token', attempt: 1, ok: false, detail: 'HTTP 401' },
    ]);
  });

  it('reports an expired consumer key with the 300 s rule in the message', async () => {
    const { fields } = await activated();
    await adminJson(sim.url, 'POST', '/clock/advance', { seconds: 301 });
    const { input: args, steps } = input(fields);
    const error = (await rejection(exchangeTokens(args))) as MagentoAuthError;
    expect(error).toBeInstanceOf(MagentoAuthError);
    expect(error.problem).toBe('Consumer key has expired');
    expect(error.message).toContain('within 300 s');
    expect(error.message).toContain('Reauthorize');
    expect(steps).toEqual([{ step: 'request_token', attempt: 1, ok: false, detail: 'HTTP 401' }]);
  });

  it('does not even try once its own deadline has passed', async () => {
    const { fields } = await activated();
    const { input: args, steps } = input(fields, { deadline: new Date(Date.now() - 1000) });
    const error = await rejection(exchangeTokens(args));
    expect(error).toBeInstanceOf(MagentoExpiredError);
    expect((error as MagentoExpiredError).code).toBe('MAGENTO_EXPIRED');
    expect(steps).toEqual([]);
  });

  it('gets through injected 503s by retrying, each attempt signed with a fresh nonce', async () => {
    const { fields } = await activated();
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/oauth/token/', errorRate: 0.5 }] });
    try {
      const { input: args, steps } = input(fields, { retry: { limit: 10, baseDelayMs: 5 } });
      const tokens = await exchangeTokens(args);
      expect(tokens.accessToken).toMatch(/^[0-9a-z]{32}$/);
      const failed = steps.filter((s) => !s.ok);
      // The seeded fault sequence makes at least one attempt fail; every failure was a 503.
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((s) => s.detail === 'HTTP 503')).toBe(true);
      expect(steps.filter((s) => s.ok).map((s) => s.step)).toEqual(['request_token', 'access_token']);
    } finally {
      await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    }
    await expectNoNonceReused(sim.url);
  });
});

describe('exchangeTokens retries (scripted store)', () => {
  const ANSWER = 'oauth_token=abc&oauth_token_secret=def';

  it('re-signs every retry: got runs beforeRequest per attempt', async () => {
    const store = await scriptedServer((_req, i) =>
      i % 3 === 2 ? { status: 200, body: ANSWER } : { status: i % 3 === 0 ? 503 : 502 },
    );
    try {
      const { input: args, steps } = input({
        store_base_url: `${store.url}/index.php/`,
        oauth_consumer_key: 'ck',
        oauth_consumer_secret: 'cs',
        oauth_verifier: 'v',
      });
      await exchangeTokens(args);
      expect(store.seen.map((r) => r.url)).toEqual([
        ...Array(3).fill('/index.php/oauth/token/request'),
        ...Array(3).fill('/index.php/oauth/token/access'),
      ]);
      const headers = store.seen.map((r) => parseOAuthHeader(r.headers.authorization));
      expect(new Set(headers.map((h) => h.oauth_nonce)).size).toBe(6);
      expect(steps.map((s) => `${s.step}#${s.attempt}:${s.ok}`)).toEqual([
        'request_token#1:false',
        'request_token#2:false',
        'request_token#3:true',
        'access_token#1:false',
        'access_token#2:false',
        'access_token#3:true',
      ]);
      // Each header is a valid signature of its own attempt.
      store.seen.forEach((req, i) => {
        const { oauth_signature: signature, ...oauth } = headers[i] as Record<string, string>;
        const tokenSecret = req.url.endsWith('access') ? 'def' : '';
        expect(hmacsign256('POST', `${store.url}${req.url}`, oauth, 'cs', tokenSecret)).toBe(signature);
      });
      expect(headers[5]?.oauth_verifier).toBe('v');
      expect(headers[5]?.oauth_token).toBe('abc');
    } finally {
      await store.close();
    }
  });

  it('honours Retry-After on a 429', async () => {
    const store = await scriptedServer((_req, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200, body: ANSWER },
    );
    try {
      const { input: args } = input({
        store_base_url: `${store.url}/`,
        oauth_consumer_key: 'ck',
        oauth_consumer_secret: 'cs',
        oauth_verifier: 'v',
      });
      const started = Date.now();
      await exchangeTokens(args);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(store.seen).toHaveLength(3);
    } finally {
      await store.close();
    }
  });

  it('stops retrying the request token at the deadline', async () => {
    const store = await scriptedServer(() => ({ status: 503, body: 'busy' }));
    try {
      const { input: args } = input(
        {
          store_base_url: `${store.url}/`,
          oauth_consumer_key: 'ck',
          oauth_consumer_secret: 'cs',
          oauth_verifier: 'v',
        },
        { deadline: new Date(Date.now() + 300), retry: { limit: 50, baseDelayMs: 100 } },
      );
      const error = (await rejection(exchangeTokens(args))) as MagentoExpiredError;
      expect(error).toBeInstanceOf(MagentoExpiredError);
      expect(error.cause).toBeInstanceOf(MagentoApiError);
      expect((error.cause as MagentoApiError).status).toBe(503);
      expect(store.seen.length).toBeLessThan(6);
    } finally {
      await store.close();
    }
  });

  it('never retries a 4xx', async () => {
    const store = await scriptedServer(() => ({
      status: 400,
      body: 'oauth_problem=Signature+method+HMAC-SHA1+is+not+supported',
    }));
    try {
      const { input: args, steps } = input(
        {
          store_base_url: `${store.url}/`,
          oauth_consumer_key: 'ck',
          oauth_consumer_secret: 'cs',
          oauth_verifier: 'v',
        },
        { signatureMethod: 'HMAC-SHA1' },
      );
      const error = (await rejection(exchangeTokens(args))) as MagentoApiError;
      expect(error).toBeInstanceOf(MagentoApiError);
      expect(error.status).toBe(400);
      expect(error.problem).toBe('Signature method HMAC-SHA1 is not supported');
      expect(error.message).toContain('HMAC-SHA256 only');
      expect(store.seen).toHaveLength(1);
      expect(steps).toEqual([{ step: 'request_token', attempt: 1, ok: false, detail: 'HTTP 400' }]);
    } finally {
      await store.close();
    }
  });

  it('names what is missing from a 200 answer', async () => {
    const store = await scriptedServer(() => ({ status: 200, body: 'oauth_token=abc&foo=bar' }));
    try {
      const { input: args } = input({
        store_base_url: `${store.url}/`,
        oauth_consumer_key: 'ck',
        oauth_consumer_secret: 'cs',
        oauth_verifier: 'v',
      });
      const error = (await rejection(exchangeTokens(args))) as MagentoApiError;
      expect(error).toBeInstanceOf(MagentoApiError);
      expect(error.message).toContain('has no oauth_token_secret');
      expect(error.message).toContain('fields received: oauth_token, foo');
      expect(store.seen).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('maps a refused connection to MagentoNetworkError', async () => {
    const port = await closedPort();
    const { input: args, steps } = input(
      {
        store_base_url: `http://127.0.0.1:${port}/`,
        oauth_consumer_key: 'ck',
        oauth_consumer_secret: 'cs',
        oauth_verifier: 'v',
      },
      { retry: { limit: 2, baseDelayMs: 5 } },
    );
    const error = (await rejection(exchangeTokens(args))) as MagentoNetworkError;
    expect(error).toBeInstanceOf(MagentoNetworkError);
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toContain(`http://127.0.0.1:${port}`);
    expect(steps.map((s) => s.attempt)).toEqual([1, 2, 3]);
  });
});
