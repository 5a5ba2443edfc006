import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/server.js';
import { signedRequest, type Credentials } from '../../helpers/oauth-client.js';
import { manualIntegration } from '../../helpers/simulator.js';

let sim: RunningSimulator;
let creds: Credentials;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 25, customers: 10, orders: 40 });
  creds = (await manualIntegration(sim.url, 'all')).credentials;
});
afterAll(() => sim.close());

const call = async (
  method: string,
  path: string,
  extra: { query?: [string, string][]; json?: unknown } = {},
) => {
  const res = await signedRequest(sim.url, creds, { method, path, ...extra });
  return { status: res.status, body: JSON.parse(res.body), type: res.headers['content-type'] };
};

describe('REST endpoints', () => {
  it('creates with POST, and a POST with an existing sku updates that product', async () => {
    const created = await call('POST', '/rest/V1/products', {
      json: {
        product: { sku: 'NEW-1', name: 'New thing', price: 9.99, attribute_set_id: 4, type_id: 'simple' },
      },
    });
    expect(created.status).toBe(200);
    expect(created.type).toMatch(/^application\/json/);
    expect(created.body).toMatchObject({ sku: 'NEW-1', name: 'New thing', price: 9.99 });
    const again = await call('POST', '/rest/V1/products', {
      json: { product: { sku: 'NEW-1', name: 'Renamed' } },
    });
    expect(again.body.id).toBe(created.body.id);
    expect(again.body.name).toBe('Renamed');
    expect((await call('GET', '/rest/V1/products/NEW-1')).body.name).toBe('Renamed');
  });

  it('answers bad bodies with Magento 400 messages', async () => {
    const missing = await call('PUT', '/rest/V1/products/NEW-1', { json: { name: 'no wrapper' } });
    expect(missing).toMatchObject({
      status: 400,
      body: {
        message: '"%fieldName" is required. Enter and try again.',
        parameters: { fieldName: 'product' },
      },
    });
    const res = await signedRequest(sim.url, creds, {
      method: 'PUT',
      path: '/rest/V1/products/NEW-1',
      json: undefined,
    });
    expect(res.status).toBe(400);
  });

  it('pages with total_count, returns the last page past the end, and leaves null fields out', async () => {
    const page = (n: string) =>
      call('GET', '/rest/V1/orders', {
        query: [
          ['searchCriteria[pageSize]', '15'],
          ['searchCriteria[currentPage]', n],
        ],
      });
    const first = await page('1');
    expect(first.body.total_count).toBe(40);
    expect(first.body.items).toHaveLength(15);
    const last = await page('3');
    const past = await page('9');
    expect(past.body.items.map((o: { entity_id: number }) => o.entity_id)).toEqual(
      last.body.items.map((o: { entity_id: number }) => o.entity_id),
    );
    const all = (await call('GET', '/rest/V1/orders')).body.items as Record<string, unknown>[];
    expect(all).toHaveLength(40);
    const guests = all.filter((o) => o.customer_is_guest === 1);
    expect(guests.length).toBeGreaterThan(0);
    expect(guests.every((o) => !('customer_id' in o))).toBe(true);
  });

  it('searches customers and lists websites', async () => {
    const customers = await call('GET', '/rest/V1/customers/search', {
      query: [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'email'],
        ['searchCriteria[filter_groups][0][filters][0][value]', '%@%'],
        ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'like'],
      ],
    });
    expect(customers.body.total_count).toBe(10);
    const websites = await call('GET', '/rest/V1/store/websites');
    expect(websites.body.map((w: { code: string }) => w.code)).toEqual(['admin', 'base']);
  });

  it('refuses an unknown search field with 400', async () => {
    const res = await call('GET', '/rest/V1/products', {
      query: [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'colour'],
        ['searchCriteria[filter_groups][0][filters][0][value]', 'red'],
      ],
    });
    expect(res.status).toBe(400);
    expect(typeof res.body.message).toBe('string');
  });

  describe('PUT /V1/customers/:customerId', () => {
    const whole = (id: number) => {
      const c = sim.catalog.getCustomer(id);
      return { ...structuredClone(c), updated_at: undefined };
    };

    it('replaces the customer, keeps what the body leaves out, and bumps updated_at', async () => {
      const before = structuredClone(sim.catalog.getCustomer(3));
      const body = { customer: { ...whole(3), id: 999, firstname: 'Zoë', group_id: undefined } };
      const res = await call('PUT', '/rest/V1/customers/3', { json: body });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...before, firstname: 'Zoë', updated_at: res.body.updated_at });
      expect(res.body.updated_at >= before.updated_at).toBe(true);
      expect(sim.catalog.getCustomer(3).firstname).toBe('Zoë');
      expect(sim.catalog.getCustomer(3).group_id).toBe(before.group_id);
    });

    it('needs Magento_Customer::manage: reading customers is not enough', async () => {
      const reader = (await manualIntegration(sim.url, ['Magento_Customer::customer'])).credentials;
      const res = await signedRequest(sim.url, reader, {
        method: 'PUT',
        path: '/rest/V1/customers/2',
        json: { customer: whole(2) },
      });
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual({
        message: "The consumer isn't authorized to access %resources.",
        parameters: { resources: 'Magento_Customer::manage' },
      });
    });
  });
});
