import { describe, expect, it } from '@jest/globals';
import {
  generateCatalog,
  skuFor,
  skuWidth,
  slugify,
  toMagentoDate,
} from '../../../src/simulator/catalog/generate.js';

const NOW = new Date('2025-06-01T12:34:56.789Z');
const NOW_TEXT = '2025-06-01 12:34:56';
const YEAR_AGO_TEXT = toMagentoDate(NOW.getTime() - 366 * 24 * 3600 * 1000);
const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

const small = (seed = 42) => generateCatalog({ seed, products: 600, customers: 120, orders: 400, now: NOW });

describe('toMagentoDate / slugify / skuFor', () => {
  it('formats UTC without the T, milliseconds or zone', () => {
    expect(toMagentoDate(NOW)).toBe(NOW_TEXT);
    expect(toMagentoDate(Date.UTC(2024, 0, 2, 3, 4, 5))).toBe('2024-01-02 03:04:05');
  });

  it('slugifies like a Magento url key', () => {
    expect(slugify('Café Crème Mug')).toBe('cafe-creme-mug');
    expect(slugify("Men's Running Shoe")).toBe('men-s-running-shoe');
    expect(slugify('  Salt & Pepper + More  ')).toBe('salt-pepper-more');
  });

  it('pads skus to six digits, wider only when the count needs it', () => {
    expect(skuWidth(200)).toBe(6);
    expect(skuWidth(999_999)).toBe(6);
    expect(skuWidth(1_000_000)).toBe(7);
    expect(skuFor(1, 6)).toBe('SIM-000001');
    expect(skuFor(42, 7)).toBe('SIM-0000042');
  });
});

describe('generateCatalog', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const a = small(42);
    expect(small(42)).toEqual(a);
    const b = small(43);
    expect(b.products.map((p) => p.name)).not.toEqual(a.products.map((p) => p.name));
    expect(b.orders.map((o) => o.grand_total)).not.toEqual(a.orders.map((o) => o.grand_total));
  });

  it('keeps the products of a seed when only the order count changes', () => {
    const a = generateCatalog({ seed: 5, products: 50, customers: 10, orders: 0, now: NOW });
    const b = generateCatalog({ seed: 5, products: 50, customers: 10, orders: 30, now: NOW });
    expect(b.products).toEqual(a.products);
    expect(b.customers).toEqual(a.customers);
  });

  it('generates the requested sizes with sequential ids and unique skus', () => {
    const { products, customers, orders } = small();
    expect(products).toHaveLength(600);
    expect(customers).toHaveLength(120);
    expect(orders).toHaveLength(400);
    expect(products.map((p) => p.id)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect(new Set(products.map((p) => p.sku)).size).toBe(600);
    expect(products[0]?.sku).toBe('SIM-000001');
    expect(products[599]?.sku).toBe('SIM-000600');
    expect(orders[0]?.increment_id).toBe('000000001');
  });

  it('keeps created_at <= updated_at <= now within the last year, in Magento format', () => {
    const { products, customers, orders } = small();
    for (const row of [...products, ...customers, ...orders]) {
      expect(row.created_at).toMatch(DATE_RE);
      expect(row.updated_at).toMatch(DATE_RE);
      expect(row.created_at <= row.updated_at).toBe(true);
      expect(row.updated_at <= NOW_TEXT).toBe(true);
      expect(row.created_at >= YEAR_AGO_TEXT).toBe(true);
    }
    // Some rows were edited after creation, some never were.
    expect(products.some((p) => p.updated_at > p.created_at)).toBe(true);
    expect(products.some((p) => p.updated_at === p.created_at)).toBe(true);
  });

  it('produces Magento product shapes with prices in range and two decimals', () => {
    const { products } = small();
    for (const p of products) {
      expect(p.price).toBeGreaterThanOrEqual(1);
      expect(p.price).toBeLessThanOrEqual(999.99);
      expect(Number(p.price.toFixed(2))).toBe(p.price);
      expect(p.attribute_set_id).toBe(4);
      expect([1, 2]).toContain(p.status);
      expect([1, 2, 3, 4]).toContain(p.visibility);
      expect(p.extension_attributes.website_ids).toEqual([1]);
      const codes = p.custom_attributes.map((a) => a.attribute_code);
      expect(codes).toEqual(expect.arrayContaining(['description', 'url_key']));
      expect(p.type_id === 'virtual' ? p.weight === undefined : typeof p.weight === 'number').toBe(true);
    }
    const urlKeys = products.map(
      (p) => p.custom_attributes.find((a) => a.attribute_code === 'url_key')?.value,
    );
    expect(new Set(urlKeys).size).toBe(products.length);
    expect(new Set(products.map((p) => p.type_id))).toEqual(new Set(['simple', 'virtual', 'configurable']));
  });

  it('includes names with spaces, +, &, apostrophes and non-ASCII letters', () => {
    const names = small().products.map((p) => p.name);
    for (const needle of [' ', '+', '&', "'", 'é', 'Café']) {
      expect(names.some((n) => n.includes(needle))).toBe(true);
    }
  });

  it('builds orders from existing products and customers, with some guest orders', () => {
    const { products, customers, orders } = small();
    const bySku = new Map(products.map((p) => [p.sku, p]));
    const customerById = new Map(customers.map((c) => [c.id, c]));
    let guests = 0;
    for (const o of orders) {
      expect(o.items.length).toBeGreaterThan(0);
      let subtotal = 0;
      let qty = 0;
      for (const item of o.items) {
        const p = bySku.get(item.sku);
        expect(p?.id).toBe(item.product_id);
        expect(item.price).toBe(p?.price);
        expect(item.row_total).toBeCloseTo(item.price * item.qty_ordered, 2);
        expect(o.created_at >= (p?.created_at ?? '')).toBe(true);
        subtotal += item.row_total;
        qty += item.qty_ordered;
      }
      expect(o.subtotal).toBeCloseTo(subtotal, 2);
      expect(o.grand_total).toBe(o.subtotal);
      expect(o.total_qty_ordered).toBe(qty);
      if (o.customer_id === null) {
        guests++;
        expect(o.customer_is_guest).toBe(1);
      } else {
        const c = customerById.get(o.customer_id);
        expect(c?.email).toBe(o.customer_email);
        expect(c?.firstname).toBe(o.customer_firstname);
        expect(o.created_at >= (c?.created_at ?? '')).toBe(true);
        expect(o.customer_is_guest).toBe(0);
      }
    }
    expect(guests).toBeGreaterThan(0);
    expect(guests).toBeLessThan(orders.length);
    expect(new Set(orders.flatMap((o) => o.items.map((i) => i.item_id))).size).toBe(
      orders.reduce((n, o) => n + o.items.length, 0),
    );
  });

  it('gives customers unique emails and the fixed store fields', () => {
    const { customers } = small();
    expect(new Set(customers.map((c) => c.email)).size).toBe(customers.length);
    for (const c of customers) {
      expect(c.email).toMatch(/^[a-z0-9.]+@example\.com$/);
      expect(c).toMatchObject({
        created_in: 'Default Store View',
        store_id: 1,
        website_id: 1,
        addresses: [],
      });
      expect(c.disable_auto_group_change).toBe(0);
    }
  });

  it('refuses orders without products and invalid counts', () => {
    expect(() => generateCatalog({ seed: 1, products: 0, customers: 1, orders: 1, now: NOW })).toThrow(
      RangeError,
    );
    expect(() => generateCatalog({ seed: 1, products: -1, customers: 0, orders: 0, now: NOW })).toThrow(
      RangeError,
    );
    expect(() =>
      generateCatalog({ seed: 1, products: 1, customers: 0, orders: 0, now: new Date(NaN) }),
    ).toThrow(RangeError);
    // Orders without customers are all guest orders.
    const guestOnly = generateCatalog({ seed: 1, products: 3, customers: 0, orders: 5, now: NOW });
    expect(guestOnly.orders.every((o) => o.customer_id === null)).toBe(true);
  });

  it('generates 100,000 products with unique ids and skus', () => {
    const { products } = generateCatalog({ seed: 7, products: 100_000, customers: 0, orders: 0, now: NOW });
    expect(products).toHaveLength(100_000);
    expect(new Set(products.map((p) => p.sku)).size).toBe(100_000);
    expect(products[99_999]).toMatchObject({ id: 100_000, sku: 'SIM-100000' });
    expect(products.every((p, i) => p.id === i + 1)).toBe(true);
  });
});
