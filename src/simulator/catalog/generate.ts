import { substream, type Prng } from './prng.js';
import type {
  CatalogData,
  Category,
  Customer,
  CustomerGroup,
  MagentoDateTime,
  Order,
  OrderItem,
  OrderState,
  Product,
  ProductTypeId,
  ProductVisibility,
  Shipment,
  ShipmentItem,
  SourceItem,
} from './types.js';

export interface GenerateOptions {
  seed: number;
  products: number;
  customers: number;
  orders: number;
  /** Customer groups, Magento's four defaults first (default 4). */
  customerGroups?: number;
  /** Categories, the root and "Default Category" included (default 20). */
  categories?: number;
  /** MSI sources; every product has a source item in the first ("default"), half in each other (default 2). */
  sources?: number;
  /** Upper bound of every timestamp; data spreads over the year before it. */
  now: Date;
}

const SPAN_SECONDS = 365 * 24 * 3600;

/** `YYYY-MM-DD HH:MM:SS` in UTC, Magento's REST timestamp format. */
export function toMagentoDate(time: Date | number): MagentoDateTime {
  const iso = new Date(time).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** Lower-case ASCII slug, as Magento derives url keys (diacritics dropped, other runs become `-`). */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** A word and its slug, so 100k names need no per-product Unicode normalisation. */
interface Word {
  text: string;
  slug: string;
}

const words = (list: string[]): Word[] => list.map((text) => ({ text, slug: slugify(text) }));

// prettier-ignore
const ADJECTIVES = words([
  'Classic', 'Compact', 'Deluxe', 'Essential', 'Everyday', 'Heavy Duty', 'Lightweight', 'Modern',
  'Premium', 'Rustic', 'Slim', 'Smart', 'Vintage', 'Waterproof', 'Wireless', 'Ergonomic',
]);
// prettier-ignore
const MATERIALS = words([
  'Bamboo', 'Canvas', 'Ceramic', 'Cotton', 'Glass', 'Leather', 'Linen', 'Oak', 'Steel', 'Wool',
  'Copper', 'Marble',
]);
// prettier-ignore
const NOUNS = words([
  'Backpack', 'Blanket', 'Bottle', 'Chair', 'Desk Lamp', 'Headphones', 'Jacket', 'Kettle', 'Mug',
  'Notebook', 'Pillow', 'Sneakers', 'Speaker', 'Tote Bag', 'Wallet', 'Watch', 'Scarf', 'Planter',
]);
/** Names with characters that break naive URL or LIKE handling: `+`, `&`, `'`, `%`, `_`, non-ASCII. */
const SPECIAL_NAMES = words([
  'Café Crème Mug',
  'Salt & Pepper Set',
  "Men's Running Shoe",
  "Women's Rain Jacket",
  'C++ Programming Guide',
  'USB-C + HDMI Adapter',
  "Rock 'n' Roll Tee",
  'Piña Colada Mix',
  'Crème Brûlée Torch',
  'Déjà Vu Poster',
  'Smörgåsbord Platter',
  'Über Comfy Socks',
  'Tea & Biscuits Hamper',
  '100% Cotton Towel',
  'Snake_Case Sticker',
  'Jalapeño Hot Sauce',
]);

// prettier-ignore
const FIRST_NAMES = ['Ava', 'Ben', 'Chloé', 'Dmitri', 'Emma', 'François', 'Grace', 'Hiro', 'Isabel', 'José',
  'Kai', 'Liam', 'Maya', 'Noah', 'Olivia', 'Priya', 'Quinn', 'Renée', 'Sam', 'Zoë'];
// prettier-ignore
const LAST_NAMES = ['Anderson', 'Brown', 'Chen', 'Díaz', 'Evans', 'Fischer', 'García', 'Huang', 'Ito', 'Jones',
  "O'Brien", 'Kowalski', 'Müller', 'Nguyen', 'Patel', 'Rossi', 'Smith', 'Taylor', 'Van der Berg', 'Wong'];
const FIRST_SLUGS = FIRST_NAMES.map((n) => slugify(n).replace(/-/g, ''));
const LAST_SLUGS = LAST_NAMES.map((n) => slugify(n).replace(/-/g, ''));

const ORDER_STATES: readonly { state: OrderState; status: string; weight: number }[] = [
  { state: 'new', status: 'pending', weight: 15 },
  { state: 'processing', status: 'processing', weight: 30 },
  { state: 'complete', status: 'complete', weight: 40 },
  { state: 'canceled', status: 'canceled', weight: 8 },
  { state: 'holded', status: 'holded', weight: 3 },
  { state: 'closed', status: 'closed', weight: 4 },
];
const ORDER_STATE_TOTAL = ORDER_STATES.reduce((s, x) => s + x.weight, 0);

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Zero-padded to six digits, wider when the count needs it. */
export function skuFor(id: number, width: number): string {
  return `SIM-${String(id).padStart(width, '0')}`;
}

export function skuWidth(count: number): number {
  return Math.max(6, String(count).length);
}

/** A created/updated pair with created ≤ updated ≤ nowSec; about half the rows were never edited. */
function timestamps(rng: Prng, nowSec: number, notBefore: number): [number, number] {
  const created = rng.int(Math.min(notBefore, nowSec), nowSec);
  const updated = rng.chance(0.5) ? created : rng.int(created, nowSec);
  return [created, updated];
}

interface ProductText {
  name: string;
  slug: string;
  description: string;
}

/** Names repeat, so their strings are built once and shared between products. */
function productText(
  cache: Map<number, ProductText>,
  key: number,
  build: () => [string, string],
): ProductText {
  let t = cache.get(key);
  if (t === undefined) {
    const [name, slug] = build();
    t = { name, slug, description: `<p>${name}: part of the simulated catalog.</p>` };
    cache.set(key, t);
  }
  return t;
}

function generateProducts(count: number, seed: number, nowSec: number, createdSec: Float64Array): Product[] {
  const rng = substream(seed, 'products');
  const width = skuWidth(count);
  const texts = new Map<number, ProductText>();
  const products: Product[] = [];
  for (let i = 0; i < count; i++) {
    const id = i + 1;
    const sku = skuFor(id, width);
    let text: ProductText;
    if (rng.chance(0.15)) {
      const w = rng.int(0, SPECIAL_NAMES.length - 1);
      text = productText(texts, -1 - w, () => {
        const special = SPECIAL_NAMES[w] as Word;
        return [special.text, special.slug];
      });
    } else {
      const a = rng.int(0, ADJECTIVES.length - 1);
      const m = rng.int(0, MATERIALS.length - 1);
      const n = rng.int(0, NOUNS.length - 1);
      text = productText(texts, (a * 100 + m) * 100 + n, () => {
        const [wa, wm, wn] = [ADJECTIVES[a], MATERIALS[m], NOUNS[n]] as [Word, Word, Word];
        return [`${wa.text} ${wm.text} ${wn.text}`, `${wa.slug}-${wm.slug}-${wn.slug}`];
      });
    }
    const { name, slug, description } = text;
    const r = rng.next();
    const type_id: ProductTypeId = r < 0.85 ? 'simple' : r < 0.95 ? 'virtual' : 'configurable';
    const v = rng.next();
    const visibility: ProductVisibility = v < 0.8 ? 4 : v < 0.9 ? 1 : v < 0.95 ? 2 : 3;
    const [created, updated] = timestamps(rng, nowSec, nowSec - SPAN_SECONDS);
    createdSec[i] = created;
    const product: Product = {
      id,
      sku,
      name,
      attribute_set_id: 4,
      price: rng.int(100, 99999) / 100,
      status: rng.chance(0.9) ? 1 : 2,
      visibility,
      type_id,
      created_at: toMagentoDate(created * 1000),
      updated_at: toMagentoDate(updated * 1000),
      extension_attributes: { website_ids: [1] },
      custom_attributes: [
        { attribute_code: 'description', value: description },
        // Names repeat, so the sku keeps url keys unique as Magento requires per store.
        { attribute_code: 'url_key', value: `${slug}-${sku.toLowerCase()}` },
      ],
    };
    if (type_id !== 'virtual') product.weight = rng.int(1, 2000) / 100;
    products.push(product);
  }
  return products;
}

function generateCustomers(
  count: number,
  seed: number,
  nowSec: number,
  createdSec: Float64Array,
): Customer[] {
  const rng = substream(seed, 'customers');
  const customers: Customer[] = [];
  for (let i = 0; i < count; i++) {
    const id = i + 1;
    const f = rng.int(0, FIRST_NAMES.length - 1);
    const l = rng.int(0, LAST_NAMES.length - 1);
    const [created, updated] = timestamps(rng, nowSec, nowSec - SPAN_SECONDS);
    createdSec[i] = created;
    const g = rng.next();
    customers.push({
      id,
      group_id: g < 0.8 ? 1 : g < 0.9 ? 2 : 3,
      // The id keeps emails unique, as Magento requires per website.
      email: `${FIRST_SLUGS[f]}.${LAST_SLUGS[l]}.${id}@example.com`,
      firstname: FIRST_NAMES[f] as string,
      lastname: LAST_NAMES[l] as string,
      created_at: toMagentoDate(created * 1000),
      updated_at: toMagentoDate(updated * 1000),
      created_in: 'Default Store View',
      store_id: 1,
      website_id: 1,
      addresses: [],
      disable_auto_group_change: 0,
    });
  }
  return customers;
}

function pickState(rng: Prng): (typeof ORDER_STATES)[number] {
  let r = rng.next() * ORDER_STATE_TOTAL;
  for (const s of ORDER_STATES) {
    r -= s.weight;
    if (r < 0) return s;
  }
  return ORDER_STATES[ORDER_STATES.length - 1] as (typeof ORDER_STATES)[number];
}

function generateOrders(
  count: number,
  seed: number,
  nowSec: number,
  products: Product[],
  productCreated: Float64Array,
  customers: Customer[],
  customerCreated: Float64Array,
): Order[] {
  if (count > 0 && products.length === 0) throw new RangeError('orders need at least one product');
  const rng = substream(seed, 'orders');
  const orders: Order[] = [];
  let itemId = 0;
  for (let i = 0; i < count; i++) {
    const entityId = i + 1;
    const guest = customers.length === 0 || rng.chance(0.2);
    const ci = guest ? -1 : rng.int(0, customers.length - 1);
    const customer = ci >= 0 ? customers[ci] : undefined;
    // An order cannot predate its customer account or the products in it.
    let notBefore = customer ? (customerCreated[ci] as number) : nowSec - SPAN_SECONDS;

    const lines = Math.min(rng.int(1, 4), products.length);
    const chosen: number[] = [];
    while (chosen.length < lines) {
      const p = rng.int(0, products.length - 1);
      if (!chosen.includes(p)) chosen.push(p);
    }
    const items: OrderItem[] = [];
    let subtotal = 0;
    let qtyTotal = 0;
    for (const p of chosen) {
      const product = products[p] as Product;
      notBefore = Math.max(notBefore, productCreated[p] as number);
      const qty = rng.int(1, 3);
      const rowTotal = round2(product.price * qty);
      items.push({
        item_id: ++itemId,
        sku: product.sku,
        name: product.name,
        qty_ordered: qty,
        price: product.price,
        row_total: rowTotal,
        product_id: product.id,
      });
      subtotal += rowTotal;
      qtyTotal += qty;
    }
    const [created, updated] = timestamps(rng, nowSec, notBefore);
    const { state, status } = pickState(rng);
    let email: string;
    let firstname: string;
    let lastname: string;
    if (customer) {
      ({ email, firstname, lastname } = customer);
    } else {
      const f = rng.int(0, FIRST_NAMES.length - 1);
      const l = rng.int(0, LAST_NAMES.length - 1);
      firstname = FIRST_NAMES[f] as string;
      lastname = LAST_NAMES[l] as string;
      email = `${FIRST_SLUGS[f]}.${LAST_SLUGS[l]}.guest${entityId}@example.org`;
    }
    subtotal = round2(subtotal);
    orders.push({
      entity_id: entityId,
      increment_id: String(entityId).padStart(9, '0'),
      state,
      status,
      customer_email: email,
      customer_firstname: firstname,
      customer_lastname: lastname,
      customer_id: customer ? customer.id : null,
      customer_is_guest: customer ? 0 : 1,
      base_currency_code: 'USD',
      order_currency_code: 'USD',
      grand_total: subtotal,
      subtotal,
      total_qty_ordered: qtyTotal,
      created_at: toMagentoDate(created * 1000),
      updated_at: toMagentoDate(updated * 1000),
      store_id: 1,
      items,
    });
  }
  return orders;
}

/** Magento's default groups (ids 0–3), as a fresh install has them. */
const DEFAULT_GROUPS = ['NOT LOGGED IN', 'General', 'Wholesale', 'Retailer'];

export function generateCustomerGroups(count: number): CustomerGroup[] {
  return Array.from({ length: count }, (_, id) => ({
    id,
    code: DEFAULT_GROUPS[id] ?? `Group ${id}`,
    tax_class_id: 3,
    tax_class_name: 'Retail Customer',
  }));
}

// prettier-ignore
const CATEGORY_NAMES = ['Home & Garden', 'Apparel', 'Electronics', 'Kitchen', 'Outdoor', 'Office',
  'Bags', 'Footwear', 'Café Corner', "Kids' Room", 'Sale', 'New Arrivals'];
const TOP_LEVEL = 8;

/** Root Catalog (1), Default Category (2) under it, then a two-level tree under Default Category. */
function generateCategories(count: number, seed: number, nowSec: number): Category[] {
  const rng = substream(seed, 'categories');
  const categories: Category[] = [];
  for (let i = 0; i < count; i++) {
    const id = i + 1;
    const [created, updated] = timestamps(rng, nowSec, nowSec - SPAN_SECONDS);
    let parent: Category | undefined;
    if (id === 2) parent = categories[0];
    else if (id > 2)
      parent =
        id <= 2 + TOP_LEVEL ? categories[1] : categories[rng.int(2, Math.min(count, 2 + TOP_LEVEL) - 1)];
    const base =
      id === 1
        ? 'Root Catalog'
        : id === 2
          ? 'Default Category'
          : CATEGORY_NAMES[(id - 3) % CATEGORY_NAMES.length];
    const name = id > 2 + CATEGORY_NAMES.length ? `${base} ${id}` : (base as string);
    const category: Category = {
      id,
      parent_id: parent?.id ?? 0,
      name,
      is_active: id <= 2 || rng.chance(0.9),
      position: parent ? parent.children.split(',').filter(Boolean).length + 1 : 0,
      level: parent ? parent.level + 1 : 0,
      children: '',
      path: parent ? `${parent.path}/${id}` : String(id),
      include_in_menu: true,
      created_at: toMagentoDate(created * 1000),
      updated_at: toMagentoDate(updated * 1000),
      custom_attributes: [{ attribute_code: 'url_key', value: `${slugify(name)}-${id}` }],
    };
    if (parent) parent.children = parent.children ? `${parent.children},${id}` : String(id);
    categories.push(category);
  }
  return categories;
}

const CARRIERS = [
  { carrier_code: 'ups', title: 'United Parcel Service' },
  { carrier_code: 'fedex', title: 'Federal Express' },
  { carrier_code: 'usps', title: 'United States Postal Service' },
];

/** One shipment per complete or closed order and per second processing order, shipping every item. */
function generateShipments(orders: Order[], seed: number, nowSec: number): Shipment[] {
  const rng = substream(seed, 'shipments');
  const shipments: Shipment[] = [];
  let itemId = 0;
  for (const order of orders) {
    const shipped =
      order.state === 'complete' ||
      order.state === 'closed' ||
      (order.state === 'processing' && rng.chance(0.5));
    if (!shipped) continue;
    const orderCreated = Date.parse(`${order.created_at.replace(' ', 'T')}Z`) / 1000;
    const [created, updated] = timestamps(rng, nowSec, orderCreated);
    const entityId = shipments.length + 1;
    const items: ShipmentItem[] = order.items.map((item) => ({
      entity_id: ++itemId,
      parent_id: entityId,
      order_item_id: item.item_id,
      product_id: item.product_id,
      sku: item.sku,
      name: item.name,
      qty: item.qty_ordered,
      price: item.price,
    }));
    const carrier = rng.pick(CARRIERS);
    shipments.push({
      entity_id: entityId,
      increment_id: String(entityId).padStart(9, '0'),
      order_id: order.entity_id,
      store_id: order.store_id,
      customer_id: order.customer_id,
      total_qty: order.total_qty_ordered,
      created_at: toMagentoDate(Math.max(created, orderCreated) * 1000),
      updated_at: toMagentoDate(Math.max(updated, orderCreated) * 1000),
      items,
      tracks: [{ ...carrier, track_number: `1Z${String(rng.int(0, 999_999_999)).padStart(9, '0')}` }],
    });
  }
  return shipments;
}

/** Source codes: Magento's "default" first. */
export function sourceCodes(count: number): string[] {
  const named = ['default', 'eu_warehouse', 'us_warehouse'];
  return Array.from({ length: count }, (_, i) => named[i] ?? `source_${i + 1}`);
}

function generateSourceItems(products: Product[], sources: number, seed: number): SourceItem[] {
  const rng = substream(seed, 'source-items');
  const items: SourceItem[] = [];
  for (const [k, source_code] of sourceCodes(sources).entries()) {
    for (const product of products) {
      if (k > 0 && !rng.chance(0.5)) continue;
      const quantity = rng.chance(0.1) ? 0 : rng.int(1, 500);
      items.push({ sku: product.sku, source_code, quantity, status: quantity > 0 ? 1 : 0 });
    }
  }
  return items;
}

function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

/**
 * A deterministic store: the same options give deep-equal data. Each entity uses its own PRNG stream,
 * so changing one count leaves the other entities of the seed unchanged (shipments follow the orders,
 * source items the products).
 */
export function generateCatalog(options: GenerateOptions): CatalogData {
  const { seed, now } = options;
  checkCount('products', options.products);
  checkCount('customers', options.customers);
  checkCount('orders', options.orders);
  const groups = options.customerGroups ?? DEFAULT_GROUPS.length;
  const categories = options.categories ?? 20;
  const sources = options.sources ?? 2;
  checkCount('customerGroups', groups);
  checkCount('categories', categories);
  checkCount('sources', sources);
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('now must be a valid Date');
  const nowSec = Math.floor(nowMs / 1000);

  const productCreated = new Float64Array(options.products);
  const customerCreated = new Float64Array(options.customers);
  const products = generateProducts(options.products, seed, nowSec, productCreated);
  const customers = generateCustomers(options.customers, seed, nowSec, customerCreated);
  const orders = generateOrders(
    options.orders,
    seed,
    nowSec,
    products,
    productCreated,
    customers,
    customerCreated,
  );
  return {
    products,
    customers,
    orders,
    customerGroups: generateCustomerGroups(groups),
    shipments: generateShipments(orders, seed, nowSec),
    categories: generateCategories(categories, seed, nowSec),
    sourceItems: generateSourceItems(products, sources, seed),
  };
}
