import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { IntegrationRecord } from '../../src/storage/types.js';
import { startTestConnector } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';

type TestConnector = Awaited<ReturnType<typeof startTestConnector>>;
let t: TestConnector;
let sim: RunningSimulator;
let attacker: RunningSimulator;
const stores: RunningSimulator[] = [];

/** 32 characters of [0-9a-z], as Magento issues credentials. */
const credential = () =>
  [...randomBytes(32)].map((b) => '0123456789abcdefghijklmnopqrstuvwxyz'[b % 36]).join('');

beforeAll(async () => {
  t = await startTestConnector();
  attacker = await startSimulator({ port: 0, products: 1, customers: 1, orders: 1 });
  stores.push(attacker);
});
beforeEach(async () => {
  sim = await startSimulator({ port: 0, products: 5, customers: 1, orders: 1 });
  stores.push(sim);
});
afterAll(async () => {
  await t.close();
  await Promise.all(stores.map((s) => s.close()));
});

interface SimIntegration {
  id: number;
  consumer_key: string;
  consumer_secret: string;
}

async function activeIntegration(store = sim): Promise<IntegrationRecord> {
  const created = await adminJson<SimIntegration>(store.url, 'POST', '/integrations', {
    name: `Connector ${credential().slice(0, 6)}`,
    endpoint_url: `${t.connector.url}/magento/callback`,
    identity_link_url: `${t.connector.url}/magento/identity`,
    all_resources: true,
  });
  await adminJson(store.url, 'POST', `/integrations/${created.body.id}/activate`);
  const record = await t.connector.activation.settled(created.body.consumer_key);
  expect(record?.status).toBe('active');
  return record!;
}

const post = (fields: Record<string, string>) =>
  fetch(`${t.connector.url}/magento/callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });

const snapshot = async (key: string) => {
  const r = await t.connector.storage.integrations.get(key);
  return r && { ...r, events: r.events.length };
};

describe('what an anonymous callback may change', () => {
  it('refuses a known consumer key with another secret or store (takeover), changing nothing', async () => {
    const victim = await activeIntegration();
    const before = await snapshot(victim.consumerKey);
    const attempts = [
      // The attacker's own store, a new secret and verifier.
      { secret: credential(), url: `${attacker.url}/` },
      // The attacker's store with the right secret (say it leaked): still refused, origin differs.
      { secret: victim.consumerSecret!, url: `${attacker.url}/` },
      // The victim's store with a made-up secret.
      { secret: credential(), url: victim.storeBaseUrl },
    ];
    for (const a of attempts) {
      const res = await post({
        oauth_consumer_key: victim.consumerKey,
        oauth_consumer_secret: a.secret,
        oauth_verifier: credential(),
        store_base_url: a.url,
      });
      expect(res.status).toBe(403);
      expect((await res.json()) as { error: string }).toMatchObject({
        error: expect.stringMatching(/secret or store/),
      });
    }
    expect(await snapshot(victim.consumerKey)).toEqual(before);
  });

  it('keeps a live integration working when a made-up key claims its store (kill switch)', async () => {
    const victim = await activeIntegration();
    const fake = credential();
    const res = await post({
      oauth_consumer_key: fake,
      oauth_consumer_secret: credential(),
      oauth_verifier: credential(),
      store_base_url: victim.storeBaseUrl,
    });
    expect(res.status).toBe(200);
    const candidate = await t.connector.activation.settled(fake);
    // The store never issued tokens for that key.
    expect(candidate?.status).toBe('failed');
    const still = await t.connector.storage.integrations.get(victim.consumerKey);
    expect(still?.status).toBe('active');
    expect(still?.accessToken).toBe(victim.accessToken);
    expect(still?.supersededBy).toBeUndefined();
  });

  it('lets a real Reset supersede the old integration once the store issued tokens for the new key', async () => {
    const old = await activeIntegration();
    const list = await adminJson<SimIntegration[]>(sim.url, 'GET', '/integrations');
    const id = list.body.find((i) => i.consumer_key === old.consumerKey)!.id;
    const reset = await adminJson<SimIntegration>(sim.url, 'POST', `/integrations/${id}/reset`);
    expect(reset.status).toBe(200);
    await adminJson(sim.url, 'POST', `/integrations/${reset.body.id ?? id}/activate`);
    const now = await adminJson<SimIntegration>(sim.url, 'GET', `/integrations/${reset.body.id ?? id}`);
    const fresh = await t.connector.activation.settled(now.body.consumer_key);
    expect(fresh?.status).toBe('active');
    const superseded = await t.connector.storage.integrations.get(old.consumerKey);
    expect(superseded).toMatchObject({ status: 'superseded', supersededBy: fresh!.consumerKey });
    expect(superseded?.accessToken).toBeUndefined();
    expect(fresh?.history.map((h) => h.consumerKey)).toContain(old.consumerKey);
  });

  it('accepts a Reauthorize: same key, same secret, same store, new verifier', async () => {
    const record = await activeIntegration();
    const list = await adminJson<SimIntegration[]>(sim.url, 'GET', '/integrations');
    const id = list.body.find((i) => i.consumer_key === record.consumerKey)!.id;
    await adminJson(sim.url, 'POST', `/integrations/${id}/reauthorize`);
    const after = await t.connector.activation.settled(record.consumerKey);
    expect(after?.status).toBe('active');
    expect(after?.accessToken).not.toBe(record.accessToken);
    expect(after?.history.at(-1)?.reason).toBe('reauthorize');
  });

  it('keeps history bounded however many times a store resets', async () => {
    let last: IntegrationRecord | undefined;
    const created = await adminJson<SimIntegration>(sim.url, 'POST', '/integrations', {
      name: 'Resetting',
      endpoint_url: `${t.connector.url}/magento/callback`,
      identity_link_url: `${t.connector.url}/magento/identity`,
      all_resources: true,
    });
    let id = created.body.id;
    for (let i = 0; i < 14; i++) {
      if (i > 0)
        id = (await adminJson<SimIntegration>(sim.url, 'POST', `/integrations/${id}/reset`)).body.id ?? id;
      await adminJson(sim.url, 'POST', `/integrations/${id}/activate`);
      const key = (await adminJson<SimIntegration>(sim.url, 'GET', `/integrations/${id}`)).body.consumer_key;
      last = await t.connector.activation.settled(key);
      expect(last?.status).toBe('active');
    }
    expect(last!.history.length).toBeLessThanOrEqual(10);
    expect(last!.events.length).toBeLessThanOrEqual(50);
  });
});
