import { substream, type Prng } from './prng.js';
import type {
  CatalogData,
  Customer,
  MagentoDateTime,
  Order,
  OrderItem,
  OrderState,
  Product,
  ProductTypeId,
  ProductVisibility,
} from './types.js';

export interface GenerateOptions {
  seed: number;
  products: number;
  customers: number;
  orders: number;
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

function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

/**
 * A deterministic store: the same options give deep-equal data. Products, customers and orders use
 * separate PRNG streams, so changing one count leaves the other entities of the seed unchanged.
 */
export function generateCatalog(options: GenerateOptions): CatalogData {
  const { seed, now } = options;
  checkCount('products', options.products);
  checkCount('customers', options.customers);
  checkCount('orders', options.orders);
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
  return { products, customers, orders };
}
