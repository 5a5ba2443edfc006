import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyFieldsFilter, parseFieldsFilter } from '../../../src/simulator/rest/fields-filter.js';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/server.js';
import { adminJson } from '../../helpers/http.js';
import { signedRequest, type Credentials } from '../../helpers/oauth-client.js';
import { manualIntegration } from '../../helpers/simulator.js';

describe('fields filter (Magento partial responses)', () => {
  it('parses nested lists into a tree and refuses what Magento refuses', () => {
    expect(parseFieldsFilter('items[id,sku],total_count')).toEqual({
      items: { id: true, sku: true },
      total_count: true,
    });
    expect(parseFieldsFilter('customer[id,email],addresses[city,region[region_code]]')).toEqual({
      customer: { id: true, email: true },
      addresses: { city: true, region: { region_code: true } },
    });
    for (const bad of ['items[id', 'items]id[', 'items[id] ', 'items.id', 'id;sku', 'ïd'])
      expect(parseFieldsFilter(bad)).toBeNull();
  });

  it('keeps only the named keys, item by item, and answers [] for an invalid filter', () => {
    const answer = {
      items: [
        { id: 1, sku: 'A', name: 'x', extension_attributes: { website_ids: [1], other: 2 } },
        { id: 2, sku: 'B', name: 'y' },
      ],
      search_criteria: { filter_groups: [] },
      total_count: 2,
    };
    expect(applyFieldsFilter(answer, 'items[id],total_count')).toEqual({
      items: [{ id: 1 }, { id: 2 }],
      total_count: 2,
    });
    expect(applyFieldsFilter(answer, 'items[sku,extension_attributes[website_ids]]')).toEqual({
      items: [{ sku: 'A', extension_attributes: { website_ids: [1] } }, { sku: 'B' }],
    });
    expect(applyFieldsFilter(answer, 'items[nothing]')).toEqual({ items: [[], []] });
    expect(applyFieldsFilter(answer, 'items[id')).toEqual([]);
    // An empty list filtered is PHP's unset result: null, which Magento then writes.
    expect(applyFieldsFilter({ items: [], total_count: 0 }, 'items[id],total_count')).toEqual({
      items: null,
      total_count: 0,
    });
    // PHP reads "" and "0" as false: no filtering at all.
    expect(applyFieldsFilter(answer, '')).toBe(answer);
    expect(applyFieldsFilter(answer, '0')).toBe(answer);
    expect(applyFieldsFilter(answer, undefined)).toBe(answer);
  });
});

describe('fields over signed REST', () => {
  let sim: RunningSimulator;
  let creds: Credentials;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, products: 30, customers: 6, orders: 6 });
    creds = (await manualIntegration(sim.url, 'all')).credentials;
  });
  afterAll(() => sim.close());

  const get = async (path: string, query: [string, string][]) => {
    const res = await signedRequest(sim.url, creds, { method: 'GET', path, query });
    expect(res.status).toBe(200);
    return JSON.parse(res.body) as unknown;
  };

  it('answers a search with ids only when asked, paged and filtered as without it', async () => {
    const query: [string, string][] = [
      ['searchCriteria[filter_groups][0][filters][0][field]', 'entity_id'],
      ['searchCriteria[filter_groups][0][filters][0][value]', '10'],
      ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'gt'],
      ['searchCriteria[sortOrders][0][field]', 'entity_id'],
      ['searchCriteria[sortOrders][0][direction]', 'ASC'],
      ['searchCriteria[pageSize]', '7'],
      ['searchCriteria[currentPage]', '1'],
    ];
    const full = (await get('/rest/V1/products', query)) as { items: { id: number }[]; total_count: number };
    const ids = await get('/rest/V1/products', [...query, ['fields', 'items[id],total_count']]);
    expect(ids).toEqual({ items: full.items.map((p) => ({ id: p.id })), total_count: full.total_count });
    expect(full.items.map((p) => p.id)).toEqual([11, 12, 13, 14, 15, 16, 17]);
    expect(full.total_count).toBe(20);
    const none = await get('/rest/V1/products', [
      ['searchCriteria[filter_groups][0][filters][0][field]', 'sku'],
      ['searchCriteria[filter_groups][0][filters][0][value]', 'no-such-sku'],
      ['fields', 'items[id],total_count'],
    ]);
    expect(none).toEqual({ items: null, total_count: 0 });
    const orders = await get('/rest/V1/orders', [['fields', 'items[entity_id]']]);
    expect(orders).toEqual({ items: sim.catalog.orders.map((o) => ({ entity_id: o.entity_id })) });
  });

  it('deletes customers and orders through the admin API', async () => {
    const customer = sim.catalog.customers[2]!.id;
    const order = sim.catalog.orders[0]!.entity_id;
    expect((await adminJson(sim.url, 'DELETE', `/customers/${customer}`)).status).toBe(204);
    expect((await adminJson(sim.url, 'DELETE', `/orders/${order}`)).status).toBe(204);
    expect(sim.catalog.customers.map((c) => c.id)).not.toContain(customer);
    expect(sim.catalog.customers).toHaveLength(5);
    expect(sim.catalog.orders.map((o) => o.entity_id)).not.toContain(order);
    expect((await adminJson(sim.url, 'DELETE', `/customers/${customer}`)).status).toBe(404);
    const bad = await adminJson<{ error: string }>(sim.url, 'DELETE', '/orders/1e3');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/positive integer/);
  });
});
