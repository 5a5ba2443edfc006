import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { DEMO_EMAIL, startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';

type TestConnector = Awaited<ReturnType<typeof startTestConnector>>;
let t: TestConnector;
let sim: RunningSimulator;

const valid = {
  oauth_consumer_key: 'a'.repeat(32),
  oauth_consumer_secret: 'b'.repeat(32),
  oauth_verifier: 'c'.repeat(32),
  store_base_url: 'http://127.0.0.1:3100/',
};

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 5, customers: 1, orders: 1 });
  t = await startTestConnector({ LOGIN_RATE_LIMIT: '4' });
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

const stored = async () => (await t.connector.storage.integrations.list()).length;
const post = (fields: Record<string, string>) =>
  request(t.connector.url).post('/magento/callback').type('form').send(fields);

describe('callback input validation: 4xx with a reason, nothing stored', () => {
  const cases: [string, Record<string, string>, number, RegExp][] = [
    [
      'a missing field',
      { ...valid, oauth_verifier: undefined as unknown as string },
      400,
      /oauth_verifier is required/,
    ],
    [
      'an uppercase key',
      { ...valid, oauth_consumer_key: 'A'.repeat(32) },
      400,
      /oauth_consumer_key must be 32 characters/,
    ],
    [
      'a short secret',
      { ...valid, oauth_consumer_secret: 'b'.repeat(31) },
      400,
      /oauth_consumer_secret must be 32/,
    ],
    ['a non-http store URL', { ...valid, store_base_url: 'ftp://shop.example.com/' }, 400, /http\(s\) URL/],
    [
      'an oversized store URL',
      { ...valid, store_base_url: `http://shop.example.com/${'x'.repeat(2100)}` },
      400,
      /longer than 2048/,
    ],
  ];
  it.each(cases)('refuses %s', async (_name, fields, status, reason) => {
    const before = await stored();
    const res = await post(fields);
    expect(res.status).toBe(status);
    expect(res.body.error).toMatch(reason);
    expect(await stored()).toBe(before);
  });

  it('refuses a JSON body (415) and an oversized body (413)', async () => {
    const json = await request(t.connector.url).post('/magento/callback').send(valid);
    expect(json.status).toBe(415);
    const big = await post({ ...valid, padding: 'x'.repeat(10_000) });
    expect(big.status).toBe(413);
  });
});

describe('store URL policy', () => {
  it('refuses a store outside STORE_URL_ALLOWLIST', async () => {
    const listed = await startTestConnector({
      STORE_URL_ALLOWLIST: 'https://shop.example.com, *.trusted.test',
    });
    try {
      const res = await request(listed.connector.url).post('/magento/callback').type('form').send(valid);
      expect(res.status).toBe(403);
      expect(res.body.error).toMatch(/not in STORE_URL_ALLOWLIST/);
      expect(await listed.connector.storage.integrations.list()).toHaveLength(0);
    } finally {
      await listed.close();
    }
  });

  it('in production, refuses plain http and private or loopback stores unless listed', async () => {
    const prod = await startTestConnector({ NODE_ENV: 'production', TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) });
    try {
      const send = (store: string) =>
        request(prod.connector.url)
          .post('/magento/callback')
          .type('form')
          .send({ ...valid, store_base_url: store });
      expect((await send('http://shop.example.com/')).body.error).toMatch(/plain http/);
      for (const store of [
        'https://127.0.0.1/',
        'https://10.1.2.3/',
        'https://169.254.169.254/',
        'https://[::1]/',
        'https://localhost/',
      ]) {
        const res = await send(store);
        expect(res.status).toBe(403);
        expect(res.body.error).toMatch(/private, loopback or link-local|does not resolve/);
      }
      expect(await prod.connector.storage.integrations.list()).toHaveLength(0);
    } finally {
      await prod.close();
    }
  });
});

describe('identity link and login refusals', () => {
  let key: string;
  let back: string;

  beforeAll(async () => {
    const created = await adminJson<{ id: number; consumer_key: string }>(sim.url, 'POST', '/integrations', {
      name: 'Validation',
      endpoint_url: `${t.connector.url}/magento/callback`,
      identity_link_url: `${t.connector.url}/magento/identity`,
      all_resources: true,
    });
    const act = await adminJson<{ popup: { success_call_back: string } }>(
      sim.url,
      'POST',
      `/integrations/${created.body.id}/activate`,
    );
    key = created.body.consumer_key;
    back = act.body.popup.success_call_back;
    await t.connector.activation.settled(key);
  });

  const identity = (params: Record<string, string>) =>
    request(t.connector.url).get(`/magento/identity?${new URLSearchParams(params)}`);

  it('refuses a success_call_back on another origin (no open redirect)', async () => {
    const res = await identity({ oauth_consumer_key: key, success_call_back: 'https://evil.example/steal' });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/is not on the store that activated this integration/);
    expect(res.headers.location).toBeUndefined();
  });

  it('explains a link whose callback never arrived', async () => {
    const res = await identity({ oauth_consumer_key: 'd'.repeat(32), success_call_back: back });
    expect(res.status).toBe(404);
    expect(res.text).toMatch(/has not sent this integration/);
  });

  it('copes with the second ? Magento appends to a link that has a query', async () => {
    const url = `/magento/identity?source=admin?oauth_consumer_key=${key}&success_call_back=${encodeURIComponent(back)}`;
    const res = await request(t.connector.url).get(url);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Connect your store');
    // The login POST ends on the store's success_call_back, so the form may redirect there, and only there.
    expect(res.headers['content-security-policy']).toContain(
      `form-action 'self' ${new URL(sim.url).origin};`,
    );
  });

  it('refuses a login without its CSRF token (403) and a wrong password (401), linking nothing', async () => {
    const agent = request.agent(t.connector.url);
    await agent.get(
      `/magento/identity?${new URLSearchParams({ oauth_consumer_key: key, success_call_back: back })}`,
    );
    const noToken = await agent.post('/magento/identity').type('form').send({
      oauth_consumer_key: key,
      success_call_back: back,
      email: DEMO_EMAIL,
      password: 'whatever-it-is',
    });
    expect(noToken.status).toBe(403);
    const page = await agent.get(
      `/magento/identity?${new URLSearchParams({ oauth_consumer_key: key, success_call_back: back })}`,
    );
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    const wrong = await agent.post('/magento/identity').type('form').send({
      _csrf: csrf,
      oauth_consumer_key: key,
      success_call_back: back,
      email: DEMO_EMAIL,
      password: 'not the password',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Email or password is wrong.');
    expect((await t.connector.storage.integrations.get(key))?.userId).toBeUndefined();
  });

  it('rate-limits failed logins', async () => {
    const agent = request.agent(t.connector.url);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const page = await agent.get('/login');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
      const res = await agent
        .post('/login')
        .type('form')
        .send({ _csrf: csrf, email: DEMO_EMAIL, password: `wrong ${i} attempt` });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    expect(statuses.at(-1)).toBe(429);
  });

  it('never redirects a login to another site', async () => {
    const agent = request.agent(t.connector.url);
    const page = await agent.get('/login?next=//evil.example/x');
    expect(page.text).toContain('name="next" value="/"');
  });
});
