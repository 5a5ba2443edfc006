import { createPublicKey, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { WebhookDelivery } from '../../src/simulator/webhooks/webhook-sender.js';
import { adminJson, rawRequest } from '../helpers/http.js';

let sim: RunningSimulator;
let receiver: http.Server;
let receiverUrl: string;
const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 5, customers: 2, orders: 2 });
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      res.end('{"op":"success"}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await sim.close();
  await new Promise((resolve) => receiver.close(resolve));
});

describe('the simulator’s webhooks', () => {
  it('shows one public key on the admin page and in the API, and signs with its private half', async () => {
    const { body } = await adminJson<{ public_key: string }>(sim.url, 'GET', '/webhooks');
    expect(body.public_key).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const page = await rawRequest(sim.url, { method: 'GET', path: '/admin/webhooks' });
    expect(page.status).toBe(200);
    expect(page.body).toContain(body.public_key.split('\n')[1]);

    const sub = await adminJson<{ id: number }>(sim.url, 'POST', '/webhooks/subscriptions', {
      url: receiverUrl,
      events: ['observer.sales_order_save_after'],
    });
    expect(sub.status).toBe(201);
    await adminJson(sim.url, 'POST', '/catalog/touch', { count: 2 });
    const orders = await adminJson<{ ids: number[] }>(sim.url, 'POST', '/catalog/touch', {
      count: 1,
      entity: 'orders',
    });
    await adminJson(sim.url, 'POST', '/webhooks/idle', {});
    // Only the subscribed event went out, shaped like Adobe's sample payload.
    expect(received).toHaveLength(1);
    const [delivery] = received;
    const parsed = JSON.parse(delivery!.body) as {
      eventName: string;
      data: { order: { entity_id: number } };
    };
    expect(parsed.eventName).toBe('sales_order_save_after');
    expect(parsed.data.order.entity_id).toBe(orders.body.ids[0]);
    const signature = delivery!.headers['x-adobe-commerce-webhook-signature'] as string;
    const key = createPublicKey(body.public_key);
    expect(verify('sha256', Buffer.from(delivery!.body), key, Buffer.from(signature, 'base64'))).toBe(true);
    expect(verify('sha256', Buffer.from(`${delivery!.body} `), key, Buffer.from(signature, 'base64'))).toBe(
      false,
    );
    const log = (await adminJson<WebhookDelivery[]>(sim.url, 'GET', '/webhooks/deliveries')).body;
    expect(log).toMatchObject([
      { eventName: 'observer.sales_order_save_after', status: 200, entity: 'orders' },
    ]);
    expect((await adminJson(sim.url, 'DELETE', `/webhooks/subscriptions/${sub.body.id}`)).status).toBe(204);
  });

  it('sends a delete webhook for a deleted customer and for the source items of a deleted product', async () => {
    received.length = 0;
    const sub = await adminJson<{ id: number }>(sim.url, 'POST', '/webhooks/subscriptions', {
      url: receiverUrl,
      events: ['observer.customer_delete_after', 'observer.cataloginventory_stock_item_delete_after'],
    });
    expect(sub.status).toBe(201);
    const customer = sim.catalog.customers[0]!.id;
    expect((await adminJson(sim.url, 'DELETE', `/customers/${customer}`)).status).toBe(204);
    const sku = sim.catalog.products[0]!.sku;
    const items = sim.catalog.sourceItems.filter((i) => i.sku === sku).map((i) => i.source_code);
    expect(items.length).toBeGreaterThan(0);
    sim.catalog.deleteProduct(sku);
    await adminJson(sim.url, 'POST', '/webhooks/idle', {});
    const bodies = received.map(
      (r) =>
        JSON.parse(r.body) as {
          eventName: string;
          data: { customer?: { id: number }; stock_item?: { sku: string; source_code: string } };
        },
    );
    expect(bodies.map((b) => b.eventName)).toEqual([
      'customer_delete_after',
      ...items.map(() => 'cataloginventory_stock_item_delete_after'),
    ]);
    expect(bodies[0]!.data.customer?.id).toBe(customer);
    expect(bodies.slice(1).map((b) => [b.data.stock_item?.source_code, b.data.stock_item?.sku])).toEqual(
      items.map((code) => [code, sku]),
    );
    expect((await adminJson(sim.url, 'DELETE', `/webhooks/subscriptions/${sub.body.id}`)).status).toBe(204);
  });

  it('refuses a subscription without an http(s) URL, an unknown event and a fault share above 1', async () => {
    expect((await adminJson(sim.url, 'POST', '/webhooks/subscriptions', { url: 'ftp://x/y' })).status).toBe(
      400,
    );
    expect(
      (
        await adminJson(sim.url, 'POST', '/webhooks/subscriptions', {
          url: receiverUrl,
          events: ['observer.nope'],
        })
      ).status,
    ).toBe(400);
    expect((await adminJson(sim.url, 'PUT', '/webhooks/faults', { duplicate: 2 })).status).toBe(400);
    expect((await adminJson(sim.url, 'DELETE', '/webhooks/subscriptions/999')).status).toBe(404);
  });
});
