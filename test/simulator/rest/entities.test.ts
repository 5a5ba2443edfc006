import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CatalogChange } from '../../../src/simulator/catalog/catalog.js';
import { generateCatalog } from '../../../src/simulator/catalog/generate.js';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/server.js';
import { signedRequest, type Credentials } from '../../helpers/oauth-client.js';
import { manualIntegration } from '../../helpers/simulator.js';

let sim: RunningSimulator;
let all: Credentials;
const changes: CatalogChange[] = [];

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    products: 60,
    customers: 12,
    orders: 80,
    categories: 15,
    sources: 3,
  });
  all = (await manualIntegration(sim.url, 'all')).credentials;
  sim.catalog.onChange((c) => changes.push(c));
});
afterAll(() => sim.close());

const call = async (
  method: string,
  path: string,
  extra: { query?: [string, string][]; json?: unknown; creds?: Credentials } = {},
) => {
  const res = await signedRequest(sim.url, extra.creds ?? all, { method, path, ...extra });
  return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> & { items: never[] } };
};

const page = (size: number, n: number, sort: string[] = []): [string, string][] => [
  ...sort.flatMap((field, i): [string, string][] => [
    [`searchCriteria[sortOrders][${i}][field]`, field],
    [`searchCriteria[sortOrders][${i}][direction]`, 'ASC'],
  ]),
  ['searchCriteria[pageSize]', String(size)],
  ['searchCriteria[currentPage]', String(n)],
];

describe('generated entities', () => {
  it('are deterministic, scale with the options, and hang together', () => {
    const options = {
      seed: 3,
      products: 40,
      customers: 5,
      orders: 50,
      categories: 12,
      sources: 3,
      now: new Date('2026-06-01T00:00:00Z'),
    };
    const a = generateCatalog(options);
    expect(generateCatalog(options)).toEqual(a);
    expect(a.customerGroups?.map((g) => g.code)).toEqual([
      'NOT LOGGED IN',
      'General',
      'Wholesale',
      'Retailer',
    ]);
    expect(a.categories).toHaveLength(12);
    for (const c of a.categories ?? []) {
      if (c.id > 1)
        expect(a.categories?.find((p) => p.id === c.parent_id)?.children.split(',')).toContain(String(c.id));
    }
    // Every product is in "default"; the other sources hold some of them; (source, sku) never repeats.
    const items = a.sourceItems ?? [];
    expect(items.filter((i) => i.source_code === 'default')).toHaveLength(40);
    expect(items.length).toBeGreaterThan(40);
    expect(new Set(items.map((i) => `${i.source_code}/${i.sku}`)).size).toBe(items.length);
    // A shipment belongs to an order, ships its items and is not older than it.
    const orders = new Map(a.orders.map((o) => [o.entity_id, o]));
    expect(a.shipments?.length).toBeGreaterThan(0);
    for (const s of a.shipments ?? []) {
      const order = orders.get(s.order_id);
      expect(order).toBeDefined();
      expect(s.items.map((i) => i.sku)).toEqual(order?.items.map((i) => i.sku));
      expect(s.created_at >= (order?.created_at ?? '')).toBe(true);
      expect(s.updated_at >= s.created_at).toBe(true);
    }
    // More orders do not change the products' source items.
    const b = generateCatalog({ ...options, orders: 70 });
    expect(b.sourceItems).toEqual(a.sourceItems);
  });
});

describe('searchCriteria over the new entities', () => {
  it.each([
    ['customerGroups/search', 4],
    ['shipments', (sim0) => sim0.catalog.shipments.length],
    ['categories/list', 15],
    ['inventory/source-items', (sim0) => sim0.catalog.sourceItems.length],
  ] as [string, number | ((s: RunningSimulator) => number)][])(
    '%s: envelope, paging and the last page repeated past the end',
    async (path, expected) => {
      const total = typeof expected === 'number' ? expected : expected(sim);
      const first = await call('GET', `/rest/V1/${path}`, { query: page(3, 1) });
      expect(first.status).toBe(200);
      expect(first.body.total_count).toBe(total);
      expect(first.body.items).toHaveLength(Math.min(3, total));
      expect(first.body.search_criteria).toMatchObject({ page_size: 3, current_page: 1 });
      const last = Math.ceil(total / 3);
      const lastPage = await call('GET', `/rest/V1/${path}`, { query: page(3, last) });
      const beyond = await call('GET', `/rest/V1/${path}`, { query: page(3, last + 2) });
      expect(beyond.body.items).toEqual(lastPage.body.items);
      expect(beyond.body.total_count).toBe(total);
    },
  );

  it('filters, sorts and pages source items by (source_code, sku) without gaps or repeats', async () => {
    const seen: string[] = [];
    for (let n = 1; n <= Math.ceil(sim.catalog.sourceItems.length / 7); n++) {
      const res = await call('GET', '/rest/V1/inventory/source-items', {
        query: page(7, n, ['source_code', 'sku']),
      });
      seen.push(
        ...res.body.items.map((i: { source_code: string; sku: string }) => `${i.source_code}/${i.sku}`),
      );
    }
    const expected = [...sim.catalog.sourceItems]
      .map((i) => `${i.source_code}/${i.sku}`)
      .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
    expect(seen).toEqual(expected);
    const eu = await call('GET', '/rest/V1/inventory/source-items', {
      query: [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'source_code'],
        ['searchCriteria[filter_groups][0][filters][0][value]', 'eu_warehouse'],
        ['searchCriteria[filter_groups][1][filters][0][field]', 'quantity'],
        ['searchCriteria[filter_groups][1][filters][0][value]', '100'],
        ['searchCriteria[filter_groups][1][filters][0][condition_type]', 'gt'],
      ],
    });
    const want = sim.catalog.sourceItems.filter((i) => i.source_code === 'eu_warehouse' && i.quantity > 100);
    expect(eu.body.total_count).toBe(want.length);
    expect(eu.body.items.map((i: { sku: string }) => i.sku)).toEqual(want.map((i) => i.sku));
    // A descending sort is a real sort, not the stored order.
    const desc = await call('GET', '/rest/V1/inventory/source-items', {
      query: [
        ['searchCriteria[sortOrders][0][field]', 'sku'],
        ['searchCriteria[sortOrders][0][direction]', 'DESC'],
        ['searchCriteria[pageSize]', '1'],
      ],
    });
    const maxSku = [...sim.catalog.sourceItems]
      .map((i) => i.sku)
      .sort()
      .at(-1);
    expect(desc.body.items[0]).toMatchObject({ sku: maxSku });
  });

  it('filters shipments by order and updated_at, and refuses a field the entity lacks', async () => {
    const some = sim.catalog.shipments[2];
    const byOrder = await call('GET', '/rest/V1/shipments', {
      query: [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'order_id'],
        ['searchCriteria[filter_groups][0][filters][0][value]', String(some?.order_id)],
      ],
    });
    expect(byOrder.body.items.map((s: { entity_id: number }) => s.entity_id)).toEqual([some?.entity_id]);
    const since = sim.catalog.shipments.map((s) => s.updated_at).sort()[5] as string;
    const changed = await call('GET', '/rest/V1/shipments', {
      query: [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'updated_at'],
        ['searchCriteria[filter_groups][0][filters][0][value]', since],
        ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'gteq'],
      ],
    });
    expect(changed.body.total_count).toBe(sim.catalog.shipments.filter((s) => s.updated_at >= since).length);
    const bad = await call('GET', '/rest/V1/inventory/source-items', {
      query: [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'updated_at'],
        ['searchCriteria[filter_groups][0][filters][0][value]', since],
      ],
    });
    expect(bad).toMatchObject({
      status: 400,
      body: { message: 'Invalid attribute name: %1', parameters: ['updated_at'] },
    });
  });
});

describe('ACL', () => {
  it('refuses each entity to an integration without its resource, naming the resource', async () => {
    const limited = (await manualIntegration(sim.url, ['Magento_Catalog::products'])).credentials;
    for (const [path, resource] of [
      ['customerGroups/search', 'Magento_Customer::group'],
      ['shipments', 'Magento_Sales::shipment'],
      ['categories/list', 'Magento_Catalog::categories'],
      ['inventory/source-items', 'Magento_InventoryApi::source'],
    ]) {
      const res = await call('GET', `/rest/V1/${path}`, { creds: limited });
      expect(res).toEqual({
        status: 401,
        body: {
          message: "The consumer isn't authorized to access %resources.",
          parameters: { resources: resource },
        },
      });
    }
    const write = await call('POST', '/rest/V1/inventory/source-items', {
      creds: (await manualIntegration(sim.url, ['Magento_InventoryApi::source'])).credentials,
      json: { sourceItems: [{ sku: 'SIM-000001', source_code: 'default', quantity: 1, status: 1 }] },
    });
    expect(write.status).toBe(401);
    expect(write.body.parameters).toEqual({ resources: 'Magento_InventoryApi::stock_source_item_assign' });
  });
});

describe('GET /V1/customers/:customerId', () => {
  it('answers the customer; an unknown id is 404, a non-integer 400, and it needs Magento_Customer::customer', async () => {
    const res = await call('GET', '/rest/V1/customers/2');
    expect(res).toEqual({ status: 200, body: JSON.parse(JSON.stringify(sim.catalog.getCustomer(2))) });
    // Not taken for an id: the search keeps its own route.
    expect((await call('GET', '/rest/V1/customers/search', { query: page(1, 1) })).status).toBe(200);
    expect(await call('GET', '/rest/V1/customers/4242')).toEqual({
      status: 404,
      body: {
        message: 'No such entity with %fieldName = %fieldValue',
        parameters: { fieldName: 'customerId', fieldValue: 4242 },
      },
    });
    expect((await call('GET', '/rest/V1/customers/x')).status).toBe(400);
    const limited = (await manualIntegration(sim.url, ['Magento_Customer::manage'])).credentials;
    expect(await call('GET', '/rest/V1/customers/2', { creds: limited })).toEqual({
      status: 401,
      body: {
        message: "The consumer isn't authorized to access %resources.",
        parameters: { resources: 'Magento_Customer::customer' },
      },
    });
  });
});

describe('PUT /V1/customers/:customerId', () => {
  it('updates the customer, bumps updated_at and reports the change', async () => {
    const before = { ...sim.catalog.getCustomer(3) };
    sim.clock.advance(120);
    changes.length = 0;
    const res = await call('PUT', '/rest/V1/customers/3', {
      json: {
        customer: {
          id: 999,
          email: 'new.address@example.com',
          firstname: 'Zoë',
          lastname: "O'Brien",
          group_id: 2,
        },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 3,
      email: 'new.address@example.com',
      firstname: 'Zoë',
      group_id: 2,
      created_at: before.created_at,
    });
    expect(String(res.body.updated_at) > before.updated_at).toBe(true);
    expect(sim.catalog.getCustomer(3).email).toBe('new.address@example.com');
    expect(changes.map((c) => [c.entity, c.action, c.key])).toEqual([['customers', 'updated', '3']]);
  });

  it.each([
    [
      { customer: { firstname: 'A', lastname: 'B' } },
      400,
      { message: 'The customer email is missing. Enter and try again.' },
    ],
    [
      { customer: { email: 'not-an-email', firstname: 'A', lastname: 'B' } },
      400,
      { message: '"%1" is not a valid email address.', parameters: ['Email'] },
    ],
    [
      { customer: { email: 'x@example.com', lastname: 'B' } },
      400,
      { message: '"%1" is a required value.', parameters: ['First Name'] },
    ],
    [
      { customer: { email: 'x@example.com', firstname: 'A', lastname: 'B', group_id: 77 } },
      404,
      {
        message: 'No such entity with %fieldName = %fieldValue',
        parameters: { fieldName: 'id', fieldValue: 77 },
      },
    ],
    [
      { email: 'x@example.com' },
      400,
      { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: 'customer' } },
    ],
  ])("refuses %j with Magento's error and changes nothing", async (body, status, error) => {
    const before = structuredClone(sim.catalog.getCustomer(4));
    const res = await call('PUT', '/rest/V1/customers/4', { json: body });
    expect(res).toEqual({ status, body: error });
    expect(sim.catalog.getCustomer(4)).toEqual(before);
  });

  it('refuses an email another customer of the website has, and an unknown id', async () => {
    const other = sim.catalog.getCustomer(5);
    const dup = await call('PUT', '/rest/V1/customers/6', {
      json: { customer: { email: other.email.toUpperCase(), firstname: 'A', lastname: 'B' } },
    });
    expect(dup).toEqual({
      status: 400,
      body: { message: 'A customer with the same email address already exists in an associated website.' },
    });
    const missing = await call('PUT', '/rest/V1/customers/4242', {
      json: { customer: { email: 'a@example.com', firstname: 'A', lastname: 'B' } },
    });
    expect(missing).toEqual({
      status: 404,
      body: {
        message: 'No such entity with %fieldName = %fieldValue',
        parameters: { fieldName: 'customerId', fieldValue: 4242 },
      },
    });
  });
});

describe('change listener', () => {
  it('reports every product write once, in order, on the simulated clock; a throwing listener changes nothing', async () => {
    const seen: string[] = [];
    const times: number[] = [];
    const off = sim.catalog.onChange((c) => {
      seen.push(`${c.entity}:${c.action}:${c.key}`);
      times.push(c.at.getTime());
    });
    const boom = sim.catalog.onChange(() => {
      throw new Error('listener bug');
    });
    sim.clock.advance(3600);
    const from = sim.clock.now().getTime();
    const created = await call('POST', '/rest/V1/products', {
      json: { product: { sku: 'HOOK-1', name: 'Hooked', price: 1, attribute_set_id: 4 } },
    });
    expect(created.status).toBe(200);
    const put = await call('PUT', '/rest/V1/products/HOOK-1', { json: { product: { price: 2 } } });
    expect(put.body).toMatchObject({ price: 2 });
    await call('DELETE', '/rest/V1/products/HOOK-1');
    const touched = sim.catalog.touchProducts(2, sim.clock.now());
    const to = sim.clock.now().getTime();
    off();
    boom();
    await call('PUT', '/rest/V1/products/SIM-000001', { json: { product: { price: 3 } } });
    expect(seen).toEqual([
      'products:created:HOOK-1',
      'products:updated:HOOK-1',
      'products:deleted:HOOK-1',
      ...touched.map((sku) => `products:updated:${sku}`),
    ]);
    // The simulated clock runs an hour ahead of the wall clock now: events carry its time.
    for (const t of times) expect(t >= from && t <= to).toBe(true);
    expect(sim.catalog.findProduct('HOOK-1')).toBeUndefined();
  });
});

describe('DELETE /V1/products/:sku', () => {
  it("removes the product's source items too, as MSI does, reporting each", async () => {
    const sku = 'SIM-000010';
    const had = sim.catalog.sourceItems.filter((i) => i.sku === sku).map((i) => i.source_code);
    expect(had).toContain('default');
    const total = sim.catalog.sourceItems.length;
    changes.length = 0;
    expect(await call('DELETE', `/rest/V1/products/${sku}`)).toEqual({ status: 200, body: true });
    expect(sim.catalog.sourceItems.filter((i) => i.sku === sku)).toEqual([]);
    expect(sim.catalog.sourceItems).toHaveLength(total - had.length);
    expect(sim.catalog.findSourceItem('default', sku)).toBeUndefined();
    expect(changes.map((c) => `${c.entity}:${c.action}:${c.key}`)).toEqual([
      `products:deleted:${sku}`,
      ...had.map((code) => `source_items:deleted:${code}/${sku}`),
    ]);
    const listed = await call('GET', '/rest/V1/inventory/source-items', {
      query: [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'sku'],
        ['searchCriteria[filter_groups][0][filters][0][value]', sku],
      ],
    });
    expect(listed.body.total_count).toBe(0);
  });
});

describe('POST /V1/inventory/source-items', () => {
  it('updates by (source_code, sku), inserts new pairs in order, answers [] and reports each change', async () => {
    const existing = { ...sim.catalog.sourceItems.find((i) => i.source_code === 'default') } as {
      sku: string;
      quantity: number;
    };
    changes.length = 0;
    const res = await call('POST', '/rest/V1/inventory/source-items', {
      json: {
        sourceItems: [
          {
            sku: existing.sku.toLowerCase(),
            source_code: 'DEFAULT',
            quantity: existing.quantity + 5,
            status: 1,
          },
          { sku: 'AAA-NEW', source_code: 'default', quantity: '12.5', status: '1' },
        ],
      },
    });
    expect(res).toEqual({ status: 200, body: [] });
    expect(sim.catalog.findSourceItem('default', existing.sku)?.quantity).toBe(existing.quantity + 5);
    expect(sim.catalog.findSourceItem('default', 'AAA-NEW')).toEqual({
      sku: 'AAA-NEW',
      source_code: 'default',
      quantity: 12.5,
      status: 1,
    });
    expect(changes.map((c) => [c.entity, c.action])).toEqual([
      ['source_items', 'updated'],
      ['source_items', 'created'],
    ]);
    // Still in (source_code, sku) order: the new row is the first of "default".
    const first = await call('GET', '/rest/V1/inventory/source-items', {
      query: page(1, 1, ['source_code', 'sku']),
    });
    expect(first.body.items[0]).toMatchObject({ sku: 'AAA-NEW' });
  });

  it('validates every item first: the errors of all of them, the first in the message, nothing saved', async () => {
    const count = sim.catalog.sourceItems.length;
    const keep = { ...sim.catalog.findSourceItem('default', 'SIM-000002') };
    const res = await call('POST', '/rest/V1/inventory/source-items', {
      json: {
        sourceItems: [
          { sku: 'SIM-000002', source_code: 'default', quantity: 999, status: 1 },
          { sku: ' ', source_code: 'my source', quantity: 'many', status: 7 },
        ],
      },
    });
    expect(res).toEqual({
      status: 400,
      body: {
        message: 'Validation Failed: "sku" can not be empty.',
        errors: [
          { message: '"%field" can not be empty.', parameters: { field: 'sku' } },
          { message: '"%field" can not contain leading or trailing spaces.', parameters: { field: 'sku' } },
          { message: '"%field" can not contain whitespaces.', parameters: { field: 'source_code' } },
          { message: '"%field" should be numeric.', parameters: { field: 'quantity' } },
          { message: '"%field" should a known status.', parameters: { field: 'status' } },
        ],
      },
    });
    expect(sim.catalog.sourceItems).toHaveLength(count);
    expect(sim.catalog.findSourceItem('default', 'SIM-000002')).toEqual(keep);
  });

  it.each([
    [
      {},
      { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: 'sourceItems' } },
    ],
    [{ sourceItems: [] }, { message: 'Input data is empty' }],
    [
      { sourceItems: [{ sku: 'SIM-000001', source_code: 'nowhere', quantity: 1, status: 1 }] },
      { message: 'Could not save Source Item' },
    ],
  ])('refuses %j with 400', async (body, error) => {
    expect(await call('POST', '/rest/V1/inventory/source-items', { json: body })).toEqual({
      status: 400,
      body: error,
    });
  });
});
