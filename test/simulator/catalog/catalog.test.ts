import { describe, expect, it } from '@jest/globals';
import { Catalog, SKU_MAX_LENGTH } from '../../../src/simulator/catalog/catalog.js';
import {
  CatalogInputError,
  CatalogNotFoundError,
  renderPhrase,
} from '../../../src/simulator/catalog/errors.js';
import type { SearchCriteria } from '../../../src/simulator/catalog/search-criteria.js';
import { caught } from '../../helpers/errors.js';

const GENERATED_AT = new Date('2025-06-01T00:00:00Z');
const LATER = new Date('2025-06-02T08:00:00Z');
const LATER_TEXT = '2025-06-02 08:00:00';

const NOT_FOUND = "The product that was requested doesn't exist. Verify the product and try again.";
const NOT_UNIQUE = 'The value of the "%1" attribute isn\'t unique. Set a unique value and try again.';
const EMPTY = 'The "%1" attribute value is empty. Set the attribute and try again.';

const make = (seed = 42, products = 200) =>
  Catalog.generate({ seed, products, customers: 30, orders: 60, now: GENERATED_AT });

const byField = (
  field: string,
  value: string,
  condition_type: 'eq' | 'gteq' | 'like' = 'eq',
): SearchCriteria => ({
  filter_groups: [{ filters: [{ field, value, condition_type }] }],
});

describe('errors', () => {
  it('keep the raw template and render placeholders on request', () => {
    const named = new CatalogInputError('"%fieldName" is required. Enter and try again.', {
      fieldName: 'sku',
    });
    expect(named.message).toBe('"%fieldName" is required. Enter and try again.');
    expect(named.rendered()).toBe('"sku" is required. Enter and try again.');
    expect(named.status).toBe(400);
    expect(new CatalogNotFoundError('x').status).toBe(404);
    expect(renderPhrase('%1 of %2 (%3)', ['a', 2])).toBe('a of 2 (%3)');
  });
});

describe('Catalog lookups', () => {
  it('finds products by sku, ignoring case as MySQL does', () => {
    const catalog = make();
    expect(catalog.getProduct('SIM-000007').id).toBe(7);
    expect(catalog.getProduct('sim-000007').id).toBe(7);
  });

  it('answers an unknown sku with Magento not-found error', () => {
    const e = caught(() => make().getProduct('NOPE'));
    expect(e).toBeInstanceOf(CatalogNotFoundError);
    expect(e.message).toBe(NOT_FOUND);
    expect(e.status).toBe(404);
  });

  it('gets orders and customers by id, with Magento messages when missing', () => {
    const catalog = make();
    expect(catalog.getOrder(5).increment_id).toBe('000000005');
    expect(catalog.getCustomer(3).id).toBe(3);
    expect(caught(() => catalog.getOrder(9999)).message).toBe(
      "The entity that was requested doesn't exist. Verify the entity and try again.",
    );
    const e = caught(() => catalog.getCustomer(9999));
    expect(e.message).toBe('No such entity with %fieldName = %fieldValue');
    expect(e.parameters).toEqual({ fieldName: 'customerId', fieldValue: 9999 });
  });
});

describe('Catalog.createProduct', () => {
  it('adds a product with the next id, now as both timestamps and Magento defaults', () => {
    const catalog = make();
    const p = catalog.createProduct({ sku: '  NEW-1 ', name: 'Café Crème Deluxe', price: '12.5' }, LATER);
    expect(p).toMatchObject({
      id: 201,
      sku: 'NEW-1',
      name: 'Café Crème Deluxe',
      price: 12.5,
      status: 1,
      visibility: 4,
      type_id: 'simple',
      attribute_set_id: 4,
      created_at: LATER_TEXT,
      updated_at: LATER_TEXT,
      extension_attributes: { website_ids: [1] },
    });
    expect(p.custom_attributes).toContainEqual({ attribute_code: 'url_key', value: 'cafe-creme-deluxe' });
    expect(catalog.getProduct('new-1')).toBe(p);
    expect(catalog.searchProducts(byField('sku', 'NEW-1')).items).toEqual([p]);
    expect(catalog.createProduct({ sku: 'NEW-2', name: 'x', price: 1 }, LATER).id).toBe(202);
  });

  it('rejects a duplicate sku, in any letter case, and leaves the catalog unchanged', () => {
    const catalog = make();
    for (const sku of ['SIM-000001', 'sim-000001']) {
      const e = caught(() => catalog.createProduct({ sku, name: 'Dup', price: 1 }, LATER));
      expect(e).toBeInstanceOf(CatalogInputError);
      expect(e.status).toBe(400);
      expect(e.message).toBe(NOT_UNIQUE);
      expect(e.parameters).toEqual(['SKU']);
    }
    expect(catalog.products).toHaveLength(200);
    expect(catalog.getProduct('SIM-000001').name).not.toBe('Dup');
  });

  // prettier-ignore
  it.each([
    ['missing sku', { name: 'n', price: 1 }, EMPTY, ['sku']],
    ['blank sku', { sku: '   ', name: 'n', price: 1 }, EMPTY, ['sku']],
    ['long sku', { sku: 'x'.repeat(SKU_MAX_LENGTH + 1), name: 'n', price: 1 }, 'SKU length should be %1 characters maximum.', [64]],
    ['missing name', { sku: 'A', price: 1 }, EMPTY, ['Product Name']],
    ['missing price', { sku: 'A', name: 'n' }, EMPTY, ['Price']],
    ['negative price', { sku: 'A', name: 'n', price: -0.01 }, 'Please enter a number 0 or greater in this field.', []],
    ['status 3', { sku: 'A', name: 'n', price: 1, status: 3 }, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: 'status', value: '3' }],
    ['unknown type', { sku: 'A', name: 'n', price: 1, type_id: 'bundle' }, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: 'type_id', value: 'bundle' }],
    ['not an object', 'sku', '"%fieldName" is required. Enter and try again.', { fieldName: 'product' }],
  ])('rejects %s with a Magento template', (_label, input, message, parameters) => {
    const catalog = make();
    const e = caught(() => catalog.createProduct(input, LATER));
    expect(e).toBeInstanceOf(CatalogInputError);
    expect(e.message).toBe(message);
    expect(e.parameters).toEqual(parameters);
    expect(catalog.products).toHaveLength(200);
  });

  it('accepts a sku of exactly the maximum length and a configurable without a price', () => {
    const catalog = make();
    expect(catalog.createProduct({ sku: 'y'.repeat(SKU_MAX_LENGTH), name: 'n', price: 0 }, LATER).price).toBe(
      0,
    );
    expect(catalog.createProduct({ sku: 'CFG', name: 'n', type_id: 'configurable' }, LATER).price).toBe(0);
  });

  it('reports a non-numeric price the way Magento type conversion does', () => {
    const e = caught(() => make().createProduct({ sku: 'A', name: 'n', price: 'cheap' }, LATER));
    expect(e.message).toBe(
      'The "cheap" value\'s type is invalid. The "float" type was expected. Verify and try again.',
    );
  });
});

describe('Catalog.updateProduct', () => {
  it('merges fields and custom attributes by code, bumps updated_at, keeps created_at', () => {
    const catalog = make();
    const before = structuredClone(catalog.getProduct('SIM-000010'));
    const urlKey = before.custom_attributes.find((a) => a.attribute_code === 'url_key');
    const updated = catalog.updateProduct(
      'sim-000010',
      {
        sku: 'IGNORED',
        price: 19.99,
        custom_attributes: [
          { attribute_code: 'description', value: '<p>new</p>' },
          { attribute_code: 'color', value: '49' },
        ],
      },
      LATER,
    );
    expect(updated.sku).toBe('SIM-000010');
    expect(updated.price).toBe(19.99);
    expect(updated.name).toBe(before.name);
    expect(updated.created_at).toBe(before.created_at);
    expect(updated.updated_at).toBe(LATER_TEXT);
    expect(updated.custom_attributes).toEqual([
      { attribute_code: 'description', value: '<p>new</p>' },
      urlKey,
      { attribute_code: 'color', value: '49' },
    ]);
    expect(catalog.getProduct('SIM-000010')).toBe(updated);
    expect(catalog.searchProducts(byField('updated_at', LATER_TEXT, 'gteq')).items.map((p) => p.sku)).toEqual(
      ['SIM-000010'],
    );
  });

  it('answers an unknown sku with the not-found message and validates the patch', () => {
    const catalog = make();
    const missing = caught(() => catalog.updateProduct('NOPE', { price: 1 }, LATER));
    expect(missing).toBeInstanceOf(CatalogNotFoundError);
    expect(missing.message).toBe(NOT_FOUND);
    const bad = caught(() => catalog.updateProduct('SIM-000001', { name: '' }, LATER));
    expect(bad.message).toBe(EMPTY);
    expect(bad.parameters).toEqual(['Product Name']);
    expect(catalog.getProduct('SIM-000001').updated_at).not.toBe(LATER_TEXT);
  });
});

describe('Catalog.touchProducts', () => {
  it('changes the price and updated_at of exactly `count` products and returns their skus', () => {
    const catalog = make();
    const before = new Map(catalog.products.map((p) => [p.sku, { ...p }]));
    const skus = catalog.touchProducts(15, LATER);
    expect(skus).toHaveLength(15);
    expect(new Set(skus).size).toBe(15);
    const ids = skus.map((s) => catalog.getProduct(s).id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const p of catalog.products) {
      const old = before.get(p.sku);
      if (skus.includes(p.sku)) {
        expect(p.updated_at).toBe(LATER_TEXT);
        expect(p.price).not.toBe(old?.price);
        expect(p.price).toBeGreaterThan(0);
      } else {
        expect(p).toEqual(old);
      }
    }
    // What a sync client would see asking for changes since the touch.
    const changed = catalog.searchProducts(byField('updated_at', LATER_TEXT, 'gteq'));
    expect(changed.items.map((p) => p.sku)).toEqual(skus);
  });

  it('is deterministic per seed and varies between calls', () => {
    const a = make(42);
    const b = make(42);
    const first = a.touchProducts(10, LATER);
    expect(b.touchProducts(10, LATER)).toEqual(first);
    expect(a.touchProducts(10, LATER)).not.toEqual(first);
    expect(make(43).touchProducts(10, LATER)).not.toEqual(first);
  });

  it('touches every product when asked for more than exist, and rejects bad counts', () => {
    const catalog = make(1, 20);
    expect(catalog.touchProducts(50, LATER)).toHaveLength(20);
    expect(catalog.products.every((p) => p.updated_at === LATER_TEXT)).toBe(true);
    expect(catalog.touchProducts(0, LATER)).toEqual([]);
    expect(() => catalog.touchProducts(-1, LATER)).toThrow(RangeError);
  });
});

describe('Catalog searches', () => {
  it('searches orders and customers through their field maps', () => {
    const catalog = make();
    const order = catalog.orders[3];
    const orders = catalog.searchOrders(byField('increment_id', order?.increment_id ?? ''));
    expect(orders.items).toEqual([order]);
    expect(orders.total_count).toBe(1);

    const customer = catalog.customers[4];
    const customers = catalog.searchCustomers(byField('email', (customer?.email ?? '').toUpperCase()));
    expect(customers.items).toEqual([customer]);
  });

  it('rejects a field the entity does not have, as Magento does for an unknown attribute', () => {
    const e = caught(() => make().searchProducts(byField('colour', 'red')));
    expect(e.status).toBe(400);
    expect(e.message).toBe('Invalid attribute name: %1');
    expect(e.parameters).toEqual(['colour']);
    // `email` exists on customers but not on orders.
    expect(caught(() => make().searchOrders(byField('email', 'x'))).parameters).toEqual(['email']);
  });

  it('finds names with unicode and punctuation through like', () => {
    const catalog = make(42, 600);
    const cafe = catalog.searchProducts(byField('name', '%café%', 'like'));
    expect(cafe.total_count).toBeGreaterThan(0);
    expect(cafe.items.every((p) => p.name.toLowerCase().includes('café'))).toBe(true);
    const amp = catalog.searchProducts(byField('name', '% & %', 'like'));
    expect(amp.items.every((p) => p.name.includes(' & '))).toBe(true);
    expect(amp.total_count).toBe(catalog.products.filter((p) => p.name.includes(' & ')).length);
  });
});
