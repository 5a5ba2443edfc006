import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { clientForIntegration } from '../../src/activation/store-client.js';
import { MagentoAuthError } from '../../src/magento/errors.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { OauthLogEntry } from '../../src/simulator/state.js';
import type { IntegrationRecord } from '../../src/storage/types.js';
import { DEMO_EMAIL, DEMO_PASSWORD, startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';
import { expectNoNonceReused } from '../helpers/simulator.js';

type TestConnector = Awaited<ReturnType<typeof startTestConnector>>;
let sim: RunningSimulator;
let t: TestConnector;
let seq = 0;
const stores: RunningSimulator[] = [];

/**
 * The connector keeps one current integration per store (a new key from a known store is a
 * Reset), so each scenario gets a store of its own.
 */
async function newStore(): Promise<void> {
  sim = await startSimulator({ port: 0, products: 20, customers: 5, orders: 5 });
  stores.push(sim);
}

beforeAll(async () => {
  t = await startTestConnector();
});
beforeEach(newStore);
afterAll(async () => {
  await t.close();
  await Promise.all(stores.map((s) => s.close()));
});

interface SimIntegration {
  id: number;
  consumer_key: string;
  consumer_secret: string;
  status_label: string;
}

async function createInStore(): Promise<SimIntegration> {
  const res = await adminJson<SimIntegration>(sim.url, 'POST', '/integrations', {
    name: `Connector ${++seq}`,
    email: 'dev@example.com',
    endpoint_url: `${t.connector.url}/magento/callback`,
    identity_link_url: `${t.connector.url}/magento/identity`,
    resources: ['Magento_Backend::stores', 'Magento_Catalog::products'],
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function activateInStore(id: number, reauthorize = false) {
  const res = await adminJson<{ popup: { url: string; success_call_back: string } }>(
    sim.url,
    'POST',
    `/integrations/${id}/${reauthorize ? 'reauthorize' : 'activate'}`,
  );
  expect(res.status).toBe(200);
  return res.body.popup;
}

const storeStatus = async (id: number) =>
  (await adminJson<SimIntegration>(sim.url, 'GET', `/integrations/${id}`)).body.status_label;

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function settled(key: string): Promise<IntegrationRecord> {
  const record = await t.connector.activation.settled(key);
  if (!record) throw new Error(`no record for ${key}`);
  return record;
}

describe('activation end to end against the store simulator', () => {
  it('exchanges the tokens, links the user through the identity link and sends the popup back', async () => {
    const integration = await createInStore();
    const popup = await activateInStore(integration.id);
    const record = await settled(integration.consumer_key);
    expect(record.status).toBe('active');
    expect(record.storeBaseUrl).toBe(`${sim.url}/`);
    expect(record.accessToken).toMatch(/^[0-9a-z]{32}$/);
    expect(await storeStatus(integration.id)).toBe('Active');
    expect(record.events.map((e) => e.step)).toEqual(['callback_received', 'request_token', 'access_token']);

    const agent = request.agent(t.connector.url);
    const url = new URL(popup.url);
    const page = await agent.get(url.pathname + url.search);
    expect(page.status).toBe(200);
    expect(page.text).toContain(new URL(sim.url).origin);
    const login = await agent
      .post('/magento/identity')
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        oauth_consumer_key: integration.consumer_key,
        success_call_back: popup.success_call_back,
        email: DEMO_EMAIL,
        password: DEMO_PASSWORD,
      });
    expect(login.status).toBe(303);
    const progress = await agent.get(login.headers.location!);
    expect(progress.status).toBe(303);
    expect(progress.headers.location).toBe(popup.success_call_back);
    const linked = await settled(integration.consumer_key);
    expect(linked.userId).toBeDefined();
    expect(linked.events.map((e) => e.step)).toEqual(
      expect.arrayContaining(['identity_link', 'success_callback']),
    );

    // The dashboard lists it for the logged-in user.
    const dashboard = await agent.get('/');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain(integration.consumer_key);
  });

  /** A callback whose body has not arrived: the connector is handling it until the socket ends. */
  async function callbackInHand(): Promise<net.Socket> {
    const url = new URL(t.connector.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    socket.write(
      'POST /magento/callback HTTP/1.1\r\nHost: connector\r\n' +
        'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n',
    );
    while (t.connector.activation.callbacksInHand === 0) await new Promise((r) => setTimeout(r, 5));
    return socket;
  }

  const requestTokenAt = async (consumerKey: string) => {
    const log = (await adminJson<OauthLogEntry[]>(sim.url, 'GET', '/oauth-log')).body;
    return Date.parse(log.find((e) => e.consumerKey === consumerKey && e.endpoint === 'request_token')!.at);
  };

  it('answers the callbacks in hand before it starts an exchange', async () => {
    const integration = await createInStore();
    const pending = await callbackInHand();
    await activateInStore(integration.id);
    await new Promise((r) => setTimeout(r, 300));
    const released = Date.now();
    pending.destroy();
    expect((await settled(integration.consumer_key)).status).toBe('active');
    expect(await requestTokenAt(integration.consumer_key)).toBeGreaterThanOrEqual(released);
  });

  it('does not let a callback that never ends hold exchanges back for more than a moment', async () => {
    const integration = await createInStore();
    const stalled = await callbackInHand();
    try {
      await activateInStore(integration.id);
      expect((await settled(integration.consumer_key)).status).toBe('active');
      expect(t.connector.activation.callbacksInHand).toBe(1);
    } finally {
      stalled.destroy();
    }
  });

  it('handles a Reauthorize: one current credential set, the old one in the history', async () => {
    const integration = await createInStore();
    await activateInStore(integration.id);
    const first = await settled(integration.consumer_key);
    await activateInStore(integration.id, true);
    const second = await settled(integration.consumer_key);
    expect(second.status).toBe('active');
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.history).toEqual([
      expect.objectContaining({ reason: 'reauthorize', consumerKey: integration.consumer_key }),
    ]);
    expect(await storeStatus(integration.id)).toBe('Active');
  });

  it('accepts the same callback twice without duplicating or breaking anything', async () => {
    // A relay in front of the connector keeps the store's POST so it can be sent again as is.
    const posted: string[] = [];
    const relay = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posted.push(Buffer.concat(chunks).toString());
        void replay(posted.at(-1)!).then((r) => res.writeHead(r.status).end(r.text));
      });
    });
    const replay = (body: string) =>
      request(t.connector.url)
        .post('/magento/callback')
        .type('form')
        .send(body)
        .then((r) => r);
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const created = await adminJson<SimIntegration>(sim.url, 'POST', '/integrations', {
        name: 'Relayed',
        endpoint_url: `http://127.0.0.1:${(relay.address() as AddressInfo).port}/magento/callback`,
        identity_link_url: `${t.connector.url}/magento/identity`,
        all_resources: true,
      });
      await activateInStore(created.body.id);
      const first = await settled(created.body.consumer_key);
      expect(first.status).toBe('active');
      const again = await replay(posted[0]!);
      expect(again.status).toBe(200);
      expect(again.body.outcome).toBe('repeat');
      const second = await settled(created.body.consumer_key);
      expect(second.callbackCount).toBe(2);
      expect(second.status).toBe('active');
      expect(second.accessToken).toBe(first.accessToken);
      const all = await t.connector.storage.integrations.list();
      expect(all.filter((r) => r.consumerKey === created.body.consumer_key)).toHaveLength(1);
    } finally {
      relay.closeAllConnections();
      relay.close();
    }
  });

  it('follows a Reset: the new consumer key takes over, the old record is kept as superseded', async () => {
    const integration = await createInStore();
    await activateInStore(integration.id);
    await settled(integration.consumer_key);
    const reset = await adminJson<SimIntegration>(sim.url, 'POST', `/integrations/${integration.id}/reset`);
    await activateInStore(reset.body.id);
    const current = await settled(reset.body.consumer_key);
    expect(current.status).toBe('active');
    expect(current.history.at(-1)).toMatchObject({ reason: 'reset', consumerKey: integration.consumer_key });
    const old = await t.connector.storage.integrations.get(integration.consumer_key);
    expect(old).toMatchObject({ status: 'superseded', supersededBy: reset.body.consumer_key });
    expect(old?.accessToken).toBeUndefined();
  });

  it('supersedes an older integration of the store once the newer one has its tokens', async () => {
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/oauth/token/', latencyMs: 300 }] });
    const first = await createInStore();
    await activateInStore(first.id);
    // A second key for the same store arrives while the first exchange still runs.
    const second = await createInStore();
    await activateInStore(second.id);
    const current = await settled(second.consumer_key);
    const old = await settled(first.consumer_key);
    expect(old.status).toBe('superseded');
    expect(old.supersededBy).toBe(second.consumer_key);
    expect(old.accessToken).toBeUndefined();
    expect(current.status).toBe('active');
  });

  it('retries a 503 during the exchange with a fresh nonce, and succeeds', async () => {
    // The first token request gets a 503, every later one passes.
    const rolls = [0.1];
    const faulty = await startSimulator({
      port: 0,
      products: 5,
      customers: 1,
      orders: 1,
      faults: [{ route: '/oauth/token/request', errorRate: 0.5 }],
      random: () => rolls.shift() ?? 0.9,
    });
    stores.push(faulty);
    sim = faulty;
    const integration = await createInStore();
    await activateInStore(integration.id);
    const record = await settled(integration.consumer_key);
    expect(record.status).toBe('active');
    expect(faulty.faults.counters.errors503).toBe(1);
    const attempts = record.events.filter((e) => e.step === 'request_token');
    expect(attempts.map((e) => e.ok)).toEqual([false, true]);
    await expectNoNonceReused(faulty.url);
  });

  it('records a refused exchange with the store’s reason, without retrying a 4xx', async () => {
    // A connector configured for HMAC-SHA1 against a 2.4.4+ store, which only accepts SHA256.
    const sha1 = await startTestConnector({ MAGENTO_SIGNATURE_METHOD: 'HMAC-SHA1' });
    try {
      const created = await adminJson<SimIntegration>(sim.url, 'POST', '/integrations', {
        name: 'SHA1 connector',
        endpoint_url: `${sha1.connector.url}/magento/callback`,
        identity_link_url: `${sha1.connector.url}/magento/identity`,
        all_resources: true,
      });
      await activateInStore(created.body.id);
      const record = await sha1.connector.activation.settled(created.body.consumer_key);
      expect(record?.status).toBe('failed');
      expect(record?.statusReason).toMatch(/Signature method HMAC-SHA1 is not supported/);
      expect(record?.events.filter((e) => e.step === 'request_token')).toHaveLength(1);
      expect(await storeStatus(created.body.id)).toBe('Inactive');
    } finally {
      await sha1.close();
    }
  });

  it('marks a linked store for reauthorization when its token stops working', async () => {
    const integration = await createInStore();
    await activateInStore(integration.id);
    const record = await settled(integration.consumer_key);
    const client = clientForIntegration(record, {
      activation: t.connector.activation,
      integrations: t.connector.storage.integrations,
    });
    const configs = await client.get<{ base_url: string }[]>('V1/store/storeConfigs');
    expect(configs[0]?.base_url).toBe(`${sim.url}/`);
    expect((await adminJson(sim.url, 'DELETE', `/integrations/${integration.id}`)).status).toBe(204);
    await expect(client.get('V1/store/storeConfigs')).rejects.toBeInstanceOf(MagentoAuthError);
    const changed = await new Promise<IntegrationRecord>((resolve) => {
      const check = async () => {
        const r = await t.connector.storage.integrations.get(integration.consumer_key);
        if (r?.status === 'needs_reauth') resolve(r);
        else setTimeout(() => void check(), 20);
      };
      void check();
    });
    expect(changed.statusReason).toMatch(/consumer having the specified key does not exist/);
  });

  it('keeps no secret in clear in db.json, nor in the logs', async () => {
    const records = await t.connector.storage.integrations.list();
    const secrets = records
      .flatMap((r) => [r.consumerSecret, r.accessToken, r.accessTokenSecret])
      .filter(Boolean) as string[];
    expect(secrets.length).toBeGreaterThan(4);
    const file = await readFile(path.join(t.dataDir, 'db.json'), 'utf8');
    const logs = t.logs.join('');
    for (const secret of [...secrets, DEMO_PASSWORD]) {
      expect(file).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
