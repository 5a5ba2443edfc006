import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../../src/simulator/server.js';
import { setWebhookSettings } from '../../../src/sync/webhooks/webhook-settings.js';
import { linkSimulatorStore, linkTestConnector, type TestConnector } from '../../helpers/linked-connector.js';
import { appliedEventIds, rsaPair, signBody, waitFor, type TestKeyPair } from '../../helpers/webhooks.js';

let sim: RunningSimulator;
let t: TestConnector;
let storeA: string;
let storeB: string;
const commerceA = rsaPair();
const commerceB = rsaPair();
const io1 = rsaPair();
const io2 = rsaPair();
const stranger = rsaPair();
const CLIENT_ID = 'connector-client-7f3a';
/** Whoever is asked for a key: the receiver must never fetch one from a URL the request names. */
let keyServer: http.Server;
let keyServerHits = 0;
let keyServerUrl: string;

beforeAll(async () => {
  // No scheduled polling: every record written here comes from a webhook.
  ({
    sim,
    t,
    store: storeA,
  } = await linkTestConnector(
    { products: 10, customers: 3, orders: 3 },
    { SYNC_INTERVALS: 'products=0,customers=0,orders=0' },
  ));
  storeB = await linkSimulatorStore(t.connector.storage, sim);
  await setWebhookSettings(t.connector.storage.integrations, storeA, {
    commercePublicKey: commerceA.publicPem,
    ioEvents: { clientId: CLIENT_ID, publicKeys: [io1.publicPem, io2.publicPem] },
  });
  await setWebhookSettings(t.connector.storage.integrations, storeB, {
    commercePublicKey: commerceB.publicPem,
  });
  keyServer = http.createServer((_req, res) => {
    keyServerHits++;
    res.end(stranger.publicPem);
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t.close();
  await sim.close();
  await new Promise((resolve) => keyServer.close(resolve));
});

const product = () => sim.catalog.products[0]!;

function commerceBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    eventName: 'catalog_product_save_after',
    data: { product: { ...product(), ...extra } },
  });
}

function ioBody(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event_id: `evt-${Math.random().toString(36).slice(2)}`,
    type: 'com.adobe.commerce.observer.catalog_product_save_commit_after',
    recipient_client_id: CLIENT_ID,
    data: { value: { entity_id: product().id, sku: product().sku } },
    ...overrides,
  });
}

async function post(store: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.connector.url}/magento/webhooks/${store}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const commerceSigned = (body: string, key: TestKeyPair = commerceA) => ({
  'x-adobe-commerce-webhook-signature': signBody(body, key.privateKey),
});

/** Nothing was queued, claimed or written by any delivery so far in this test. */
async function nothingApplied(before: string[]): Promise<void> {
  // Long enough for a queued job to have run (they start at once).
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await t.connector.storage.queue.pending('webhook')).toBe(0);
  expect(appliedEventIds(t.logs)).toEqual(before);
  expect(await t.connector.records.count(storeA, 'products')).toBe(0);
}

function refusalsLogged(): { status: number; reason: string; store?: string }[] {
  return t.logs
    .flatMap((c) => c.split('\n'))
    .filter((l) => l.includes('"webhook delivery refused"'))
    .map((l) => JSON.parse(l) as { status: number; reason: string; store?: string });
}

describe('a Commerce webhook delivery is refused, with a reason, and changes nothing, when', () => {
  it('it is unsigned', async () => {
    const res = await post(storeA, commerceBody());
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/not signed/);
    await nothingApplied([]);
    expect(refusalsLogged().at(-1)).toMatchObject({ status: 401, store: storeA });
  });

  it('it is signed by another key', async () => {
    const body = commerceBody();
    const res = await post(storeA, body, commerceSigned(body, stranger));
    expect(res).toEqual({
      status: 401,
      body: { error: 'The webhook signature does not verify with the public key configured for this store.' },
    });
    await nothingApplied([]);
  });

  it('its body was changed after signing (even by one byte of whitespace)', async () => {
    const body = commerceBody();
    const headers = commerceSigned(body);
    expect((await post(storeA, commerceBody({ price: 0.01 }), headers)).status).toBe(401);
    expect((await post(storeA, `${body} `, headers)).status).toBe(401);
    await nothingApplied([]);
  });

  it('it carries a valid signature for another store', async () => {
    const body = commerceBody();
    expect((await post(storeA, body, commerceSigned(body, commerceB))).status).toBe(401);
    await nothingApplied([]);
  });

  it('its signature header is not base64 or is empty', async () => {
    const body = commerceBody();
    for (const bad of ['%%%not-base64%%%', '====', 'A'.repeat(5000)])
      expect((await post(storeA, body, { 'x-adobe-commerce-webhook-signature': bad })).status).toBe(401);
    expect((await post(storeA, body, { 'x-adobe-commerce-webhook-signature': '' })).status).toBe(401);
    await nothingApplied([]);
  });

  it('it is larger than the limit (413, before any signature check)', async () => {
    const body = commerceBody({ description: 'x'.repeat(300 * 1024) });
    const res = await post(storeA, body, commerceSigned(body));
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/larger than 256 KB/);
    await nothingApplied([]);
  });

  it('it is signed but not JSON, or not a delivery', async () => {
    for (const body of [
      '{"eventName": ',
      '[1,2]',
      '{"data": {}}',
      '{"eventName":"catalog_product_save_after"}',
    ]) {
      const res = await post(storeA, body, commerceSigned(body));
      expect(res.status).toBe(400);
      expect(typeof res.body.error).toBe('string');
    }
    const noId = JSON.stringify({ eventName: 'catalog_product_save_after', data: { product: { sku: 'x' } } });
    expect(await post(storeA, noId, commerceSigned(noId))).toEqual({
      status: 400,
      body: { error: 'The catalog_product_save_after payload has no entity_id (a positive whole number).' },
    });
    await nothingApplied([]);
  });

  it('the store key in the URL is unknown or missing (the same answer as a store without keys)', async () => {
    const body = commerceBody();
    const unknown = await post('0'.repeat(32), body, commerceSigned(body));
    const malformed = await post('..%2F..%2Fetc', body, commerceSigned(body));
    expect(unknown.status).toBe(401);
    expect(malformed).toEqual(unknown);
    const bare = await fetch(`${t.connector.url}/magento/webhooks`, { method: 'POST', body });
    expect(bare.status).toBe(404);
    await nothingApplied([]);
  });

  it('no secret or signature reaches the log', () => {
    const text = t.logs.join('');
    expect(text).not.toContain('x-adobe-commerce-webhook-signature');
    expect(text).not.toMatch(/"signature"\s*:\s*"[A-Za-z0-9+/]{40}/);
  });
});

describe('I/O Events deliveries', () => {
  const ioHeaders = (
    body: string,
    first: TestKeyPair | 'garbage' | null,
    second: TestKeyPair | 'garbage' | null,
  ) => {
    const h: Record<string, string> = {
      'x-adobe-public-key1-path': `${keyServerUrl}/key1.pem`,
      'x-adobe-public-key2-path': '/prod/keys/pub-key-2.pem',
    };
    const value = (k: TestKeyPair | 'garbage') =>
      k === 'garbage' ? 'Z2FyYmFnZQ==' : signBody(body, k.privateKey);
    if (first) h['x-adobe-digital-signature-1'] = value(first);
    if (second) h['x-adobe-digital-signature-2'] = value(second);
    return h;
  };

  it('echoes the registration challenge, and only a well-formed one for a configured store', async () => {
    const ok = await fetch(`${t.connector.url}/magento/webhooks/${storeA}?challenge=8ec8d794-e0ab-42df-9017`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ challenge: '8ec8d794-e0ab-42df-9017' });
    const bad = await fetch(`${t.connector.url}/magento/webhooks/${storeA}?challenge=%3Cscript%3E`);
    expect(bad.status).toBe(400);
    const unknown = await fetch(`${t.connector.url}/magento/webhooks/${'1'.repeat(32)}?challenge=abc`);
    expect(unknown.status).toBe(401);
  });

  it('refuses an event whose signatures verify with neither configured key, and fetches no key', async () => {
    const body = ioBody();
    expect((await post(storeA, body, ioHeaders(body, stranger, 'garbage'))).status).toBe(401);
    expect((await post(storeA, body, ioHeaders(body, null, null))).status).toBe(401);
    // The I/O signature of one store says nothing for another store without I/O Events keys.
    expect((await post(storeB, body, ioHeaders(body, io1, io2))).status).toBe(401);
    expect(keyServerHits).toBe(0);
    await nothingApplied([]);
  });

  it('refuses a genuine event addressed to another client (recipient_client_id)', async () => {
    const body = ioBody({ recipient_client_id: 'someone-else' });
    const res = await post(storeA, body, ioHeaders(body, io1, io2));
    expect(res).toEqual({
      status: 401,
      body: { error: 'The event is addressed to another client (recipient_client_id is not ours).' },
    });
    await nothingApplied([]);
  });

  it('accepts an event when either signature verifies, applies it once, and calls a redelivery a duplicate', async () => {
    const body = ioBody();
    const eventId = `io:${(JSON.parse(body) as { event_id: string }).event_id}`;
    const first = await post(storeA, body, ioHeaders(body, 'garbage', io2));
    expect(first).toEqual({ status: 200, body: { status: 'queued' } });
    await waitFor(
      async () => (await t.connector.records.get(storeA, 'products', String(product().id))) !== undefined,
    );
    const again = await post(storeA, body, ioHeaders(body, io1, null));
    expect(again).toEqual({ status: 200, body: { status: 'duplicate' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(appliedEventIds(t.logs).filter((id) => id === eventId)).toHaveLength(1);
    expect(keyServerHits).toBe(0);
  });
});

describe('a Commerce webhook replay', () => {
  it('is answered op: success and applied once while the first is under way; the row is the store’s, read with the signed client', async () => {
    const row = sim.catalog.products[1]!;
    const body = JSON.stringify({
      eventName: 'catalog_product_save_after',
      data: { product: { ...row, name: 'forged name' } },
    });
    const headers = commerceSigned(body);
    const replies = await Promise.all([post(storeA, body, headers), post(storeA, body, headers)]);
    expect(replies.map((r) => r.body)).toEqual([{ op: 'success' }, { op: 'success' }]);
    const eventId = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    await waitFor(async () => (await t.connector.storage.webhookEvents.seen(storeA, eventId)) === 'applied');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(appliedEventIds(t.logs).filter((id) => id === eventId)).toHaveLength(1);
    // The payload only says which row changed: what is kept is what the store answers.
    const stored = await t.connector.records.get(storeA, 'products', String(row.id));
    expect(stored?.data.name).toBe(row.name);
    expect(stored?.data.name).not.toBe('forged name');

    // The same bytes once the first is applied may be a new change (a Commerce webhook has no id, and a
    // row can go back to earlier values): applied again, which only reads the row from the store again.
    expect(await post(storeA, body, headers)).toEqual({ status: 200, body: { op: 'success' } });
    await waitFor(() => appliedEventIds(t.logs).filter((id) => id === eventId).length === 2);
    expect((await t.connector.records.get(storeA, 'products', String(row.id)))?.data.name).toBe(row.name);
  });

  it('acknowledges an event it does not sync without doing anything', async () => {
    const before = appliedEventIds(t.logs);
    const body = JSON.stringify({
      eventName: 'observer.checkout_cart_product_add_after',
      data: { item: { id: 1 } },
    });
    expect(await post(storeA, body, commerceSigned(body))).toEqual({ status: 200, body: { op: 'success' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(appliedEventIds(t.logs)).toEqual(before);
  });
});

describe('a delivery announcing a change the store has not committed yet', () => {
  it('is not marked applied until a read of the store shows it (the queued job reads again)', async () => {
    const row = sim.catalog.products[2]!;
    const id = String(row.id);
    // Commerce sends *_save_after before its transaction commits: the event's updated_at is ahead of the row.
    const later = new Date(Date.now() + 60_000);
    const announced = later.toISOString().replace('T', ' ').slice(0, 19);
    const body = JSON.stringify({
      eventName: 'catalog_product_save_after',
      data: { product: { ...row, name: 'Committed later', updated_at: announced } },
    });
    expect(await post(storeA, body, commerceSigned(body))).toEqual({ status: 200, body: { op: 'success' } });
    const eventId = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Read at once: the store's row is older than the event, so the event is not applied yet.
    expect(appliedEventIds(t.logs)).not.toContain(eventId);
    expect((await t.connector.records.get(storeA, 'products', id))?.data.name).toBe(row.name);
    // The store commits; the job (5 s after acceptance) reads the row again and applies the event, once.
    sim.catalog.updateProduct(row.sku, { name: 'Committed later' }, later);
    await waitFor(() => appliedEventIds(t.logs).includes(eventId), 15_000);
    expect((await t.connector.records.get(storeA, 'products', id))?.data.name).toBe('Committed later');
    expect(appliedEventIds(t.logs).filter((e) => e === eventId)).toHaveLength(1);
  });
});
