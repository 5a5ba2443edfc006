import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../../src/simulator/server.js';
import { setWebhookSettings } from '../../../src/sync/webhooks/webhook-settings.js';
import { linkTestConnector, type TestConnector } from '../../helpers/linked-connector.js';
import { rsaPair, signBody } from '../../helpers/webhooks.js';

/**
 * Requests anyone can send: a delivery for no configured store is refused before its body is read,
 * its refusal logs no part of the path that is not a well-formed store key, and a client (address)
 * that keeps sending invalid deliveries is refused for a while, while valid ones never count.
 */
let sim: RunningSimulator;
let t: TestConnector;
let store: string;
const key = rsaPair();

beforeAll(async () => {
  ({ sim, t, store } = await linkTestConnector(
    { products: 1, customers: 1, orders: 1 },
    { SYNC_INTERVALS: 'products=0,customers=0,orders=0' },
  ));
  await setWebhookSettings(t.connector.storage.integrations, store, { commercePublicKey: key.publicPem });
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

/**
 * A POST from a chosen loopback address (127.0.0.0/8 is all local on Linux). With `declaredBytes`, the
 * request announces that many bytes but sends only `body`, and waits: an answer means the receiver did
 * not wait for the rest.
 */
function postFrom(
  localAddress: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
  declaredBytes?: number,
): Promise<{ status: number; body: string }> {
  const url = new URL(`${t.connector.url}${path}`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': declaredBytes ?? Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
          req.destroy();
        });
      },
    );
    req.on('error', reject);
    if (declaredBytes === undefined) req.end(body);
    else req.write(body);
  });
}

const refusals = () =>
  t.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"webhook delivery refused"'))
    .map((line) => JSON.parse(line) as { store?: string; status: number });

const ignoredEvent = JSON.stringify({
  eventName: 'observer.checkout_cart_product_add_after',
  data: { item: {} },
});

describe('a delivery for no configured store', () => {
  it('is refused (401) before its body is read: no upload of up to 256 KB is waited for', async () => {
    const unknown = 'u'.repeat(32);
    const reply = await Promise.race([
      postFrom('127.0.0.11', `/magento/webhooks/${unknown}`, '{"eventName":', {}, 200_000),
      new Promise<never>((_resolve, reject) =>
        setTimeout(() => reject(new Error('no answer before the body was sent')), 3_000),
      ),
    ]);
    expect(reply.status).toBe(401);
    // Larger than the limit, for no store: the same 401 (not a 413 after reading it).
    const big = await postFrom('127.0.0.11', `/magento/webhooks/${unknown}`, 'x'.repeat(300 * 1024));
    expect(big.status).toBe(401);
    expect(big.body).toMatch(/No webhook public key is configured for this store key/);
  });

  it('logs the store only when the path holds a well-formed store key', async () => {
    const junk = 'A'.repeat(4_000);
    expect((await postFrom('127.0.0.12', `/magento/webhooks/${junk}`, '{}')).status).toBe(401);
    const unknown = 'k'.repeat(32);
    expect((await postFrom('127.0.0.12', `/magento/webhooks/${unknown}`, '{}')).status).toBe(401);
    const [forJunk, forUnknown] = refusals().slice(-2);
    expect(forJunk).toMatchObject({ status: 401 });
    expect(forJunk).not.toHaveProperty('store');
    expect(t.logs.join('')).not.toContain(junk.slice(0, 64));
    expect(forUnknown).toMatchObject({ status: 401, store: unknown });
  });
});

describe('invalid deliveries from one address', () => {
  it('are refused (429) after 30, valid ones included; other addresses and valid deliveries are not counted', async () => {
    const signed = { 'x-adobe-commerce-webhook-signature': signBody(ignoredEvent, key.privateKey) };
    // Valid deliveries never count.
    for (let i = 0; i < 40; i++) {
      const reply = await postFrom('127.0.0.13', `/magento/webhooks/${store}`, ignoredEvent, signed);
      expect(reply.status).toBe(200);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++)
      statuses.push((await postFrom('127.0.0.14', `/magento/webhooks/${'z'.repeat(32)}`, '{}')).status);
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses[30]).toBe(429);
    const logged = refusals().length;
    const blocked = await postFrom('127.0.0.14', `/magento/webhooks/${store}`, ignoredEvent, signed);
    expect(blocked.status).toBe(429);
    expect(JSON.parse(blocked.body).error).toMatch(/Too many invalid webhook deliveries/);
    expect(refusals()).toHaveLength(logged); // a refused flood is not logged line by line
    expect((await postFrom('127.0.0.15', `/magento/webhooks/${store}`, ignoredEvent, signed)).status).toBe(
      200,
    );
  });
});
