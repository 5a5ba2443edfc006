import { applySearchCriteria, type SearchCriteria, type SearchResult } from './search-criteria.js';
import { CatalogInputError, CatalogNotFoundError, MESSAGES, invalidTypeError } from './errors.js';
import {
  CATEGORY_FIELDS,
  CUSTOMER_FIELDS,
  CUSTOMER_GROUP_FIELDS,
  ORDER_FIELDS,
  PRODUCT_FIELDS,
  SHIPMENT_FIELDS,
  SOURCE_ITEM_FIELDS,
} from './fields.js';
import {
  generateCatalog,
  generateCustomerGroups,
  slugify,
  sourceCodes,
  toMagentoDate,
  type GenerateOptions,
} from './generate.js';
import { Prng } from './prng.js';
import {
  PRODUCT_TYPES,
  type CatalogData,
  type Category,
  type CustomAttribute,
  type Customer,
  type CustomerGroup,
  type Order,
  type OrderState,
  type Product,
  type ProductStatus,
  type ProductInput,
  type ProductVisibility,
  type Shipment,
  type SourceItem,
  type SourceItemStatus,
} from './types.js';
import { validateCustomer, validateSourceItems } from './validate.js';

export {
  CATEGORY_FIELDS,
  CUSTOMER_FIELDS,
  CUSTOMER_GROUP_FIELDS,
  ORDER_FIELDS,
  PRODUCT_FIELDS,
  SHIPMENT_FIELDS,
  SOURCE_ITEM_FIELDS,
} from './fields.js';

/** What changed in the store: every mutation of the catalog reports one per row, after it is applied. */
export type CatalogChange =
  | { entity: 'products'; action: 'created' | 'updated' | 'deleted'; key: string; row: Product; at: Date }
  | { entity: 'customers'; action: 'updated' | 'deleted'; key: string; row: Customer; at: Date }
  | { entity: 'orders'; action: 'updated'; key: string; row: Order; at: Date }
  | {
      entity: 'source_items';
      action: 'created' | 'updated' | 'deleted';
      /** `<source_code percent-encoded>/<sku>`, the connector's local id for it. */
      key: string;
      row: SourceItem;
      at: Date;
    };

export type CatalogListener = (change: CatalogChange) => void;

/** The statuses `touchOrders` moves orders through, as processing them would. */
const ORDER_STATUSES: [OrderState, string][] = [
  ['processing', 'processing'],
  ['complete', 'complete'],
  ['holded', 'holded'],
];

/** The key a source item is unique by: Magento's (source_code, sku) index, case-folded as MySQL compares. */
const sourceItemKey = (sourceCode: string, sku: string): string =>
  `${sourceCode.toLowerCase()}\u0000${sku.toLowerCase()}`;

const sourceItemChangeKey = (item: SourceItem): string =>
  `${encodeURIComponent(item.source_code)}/${item.sku}`;

/** (source_code, sku), case-folded: the order source items are kept and searched in. */
function compareSourceItems(a: SourceItem, b: SourceItem): number {
  const x = a.source_code.toLowerCase();
  const y = b.source_code.toLowerCase();
  if (x !== y) return x < y ? -1 : 1;
  const p = a.sku.toLowerCase();
  const q = b.sku.toLowerCase();
  return p < q ? -1 : p > q ? 1 : 0;
}

/** catalog_product_entity.sku is varchar(64). */
export const SKU_MAX_LENGTH = 64;

/** Product fields after validation; every one optional so the same shape serves create and update. */
type ProductFields = Omit<ProductInput, 'extension_attributes'> & { website_ids?: number[] };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const invalidValue = (fieldName: string, value: unknown) =>
  new CatalogInputError(MESSAGES.invalidFieldValue, {
    fieldName,
    value: typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)),
  });

/** JSON numbers, or numeric strings as PHP's type juggling accepts them. */
function toNumber(value: unknown, type: 'int' | 'float'): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : NaN;
  if (!Number.isFinite(n) || (type === 'int' && !Number.isInteger(n))) {
    throw invalidTypeError(
      typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)),
      type,
    );
  }
  return n;
}

function oneOf<T extends string | number>(
  field: string,
  value: unknown,
  allowed: readonly T[],
  numeric: boolean,
): T {
  const v = numeric && typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (!(allowed as readonly unknown[]).includes(v)) throw invalidValue(field, value);
  return v as T;
}

function validateCustomAttributes(value: unknown): CustomAttribute[] {
  if (!Array.isArray(value)) throw invalidValue('custom_attributes', value);
  return value.map((a: unknown) => {
    if (!isRecord(a) || typeof a.attribute_code !== 'string' || a.attribute_code === '') {
      throw invalidValue('custom_attributes', a);
    }
    const v = a.value;
    const ok =
      v === null ||
      ['string', 'number', 'boolean'].includes(typeof v) ||
      (Array.isArray(v) && v.every((x) => typeof x === 'string'));
    if (!ok) throw invalidValue(a.attribute_code, v);
    return { attribute_code: a.attribute_code, value: v as CustomAttribute['value'] };
  });
}

/**
 * Validates the `product` object of a POST/PUT body. Unknown keys are ignored (clients often send
 * media, options or stock data the simulator does not model); `create` enforces required attributes.
 */
function validateProduct(input: unknown, create: boolean): ProductFields {
  if (!isRecord(input)) throw new CatalogInputError(MESSAGES.required, { fieldName: 'product' });
  const out: ProductFields = {};

  if (create) {
    const sku = input.sku;
    if (sku !== undefined && sku !== null && typeof sku !== 'string' && typeof sku !== 'number') {
      throw invalidTypeError(JSON.stringify(sku) ?? String(sku), 'string');
    }
    // Magento trims the SKU before saving it.
    const trimmed = sku === undefined || sku === null ? '' : String(sku).trim();
    if (trimmed === '') throw new CatalogInputError(MESSAGES.attributeEmpty, ['sku']);
    if ([...trimmed].length > SKU_MAX_LENGTH)
      throw new CatalogInputError(MESSAGES.skuTooLong, [SKU_MAX_LENGTH]);
    out.sku = trimmed;
  }

  if (input.name !== undefined || create) {
    const name = input.name;
    if (name !== undefined && name !== null && typeof name !== 'string') {
      throw invalidTypeError(JSON.stringify(name) ?? String(name), 'string');
    }
    if (typeof name !== 'string' || name.trim() === '') {
      throw new CatalogInputError(MESSAGES.attributeEmpty, ['Product Name']);
    }
    out.name = name;
  }

  if (input.type_id !== undefined) out.type_id = oneOf('type_id', input.type_id, PRODUCT_TYPES, false);

  // Configurable products take their price from their children, so Magento does not require one.
  const priceRequired = create && (out.type_id ?? 'simple') !== 'configurable';
  if (input.price !== undefined && input.price !== null) {
    const price = toNumber(input.price, 'float');
    if (price < 0) throw new CatalogInputError(MESSAGES.notNegative);
    out.price = price;
  } else if (priceRequired) {
    throw new CatalogInputError(MESSAGES.attributeEmpty, ['Price']);
  }

  if (input.status !== undefined) out.status = oneOf<ProductStatus>('status', input.status, [1, 2], true);
  if (input.visibility !== undefined) {
    out.visibility = oneOf<ProductVisibility>('visibility', input.visibility, [1, 2, 3, 4], true);
  }
  if (input.attribute_set_id !== undefined) {
    const id = toNumber(input.attribute_set_id, 'int');
    if (id < 1) throw invalidValue('attribute_set_id', input.attribute_set_id);
    out.attribute_set_id = id;
  }
  if (input.weight !== undefined && input.weight !== null) {
    const weight = toNumber(input.weight, 'float');
    if (weight < 0) throw new CatalogInputError(MESSAGES.notNegative);
    out.weight = weight;
  }
  if (input.extension_attributes !== undefined) {
    const ext = input.extension_attributes;
    if (!isRecord(ext)) throw invalidValue('extension_attributes', ext);
    if (ext.website_ids !== undefined) {
      const ids = ext.website_ids;
      if (!Array.isArray(ids)) throw invalidValue('website_ids', ids);
      out.website_ids = ids.map((id) => {
        const n = toNumber(id, 'int');
        if (n < 0) throw invalidValue('website_ids', ids);
        return n;
      });
    }
  }
  if (input.custom_attributes !== undefined)
    out.custom_attributes = validateCustomAttributes(input.custom_attributes);
  return out;
}

/** Later entries replace earlier ones with the same attribute_code; new codes are appended. */
function mergeAttributes(base: CustomAttribute[], patch: CustomAttribute[]): CustomAttribute[] {
  const merged = base.map((a) => ({ ...a }));
  for (const a of patch) {
    const i = merged.findIndex((m) => m.attribute_code === a.attribute_code);
    if (i >= 0) merged[i] = { ...a };
    else merged.push({ ...a });
  }
  return merged;
}

/** MySQL's default collation compares SKUs case-insensitively, so lookups and uniqueness do too. */
const skuKey = (sku: string): string => sku.toLowerCase();

/** The search fields that read the entity id (the order rows are kept in). */
const ENTITY_ID = ['id', 'entity_id'];

function byIdSorted<T>(rows: T[], id: (row: T) => number): T[] {
  for (let i = 1; i < rows.length; i++) {
    if (id(rows[i - 1] as T) >= id(rows[i] as T)) return [...rows].sort((a, b) => id(a) - id(b));
  }
  return rows;
}

function findById<T>(rows: readonly T[], id: (row: T) => number, wanted: number): T | undefined {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const row = rows[mid] as T;
    const v = id(row);
    if (v === wanted) return row;
    if (v < wanted) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

function removeById<T>(rows: T[], id: (row: T) => number, wanted: number): T | undefined {
  const row = findById(rows, id, wanted);
  if (row !== undefined) rows.splice(rows.indexOf(row), 1);
  return row;
}

export interface CatalogOptions {
  /** Seeds `touchProducts`, so the same sequence of calls changes the same products. */
  seed?: number;
}

/**
 * The simulator's store data. Rows are kept in entity id order, which is the order Magento's
 * collections return without sort orders. Returned rows are the live objects; callers must not mutate them.
 */
export class Catalog {
  readonly #products: Product[];
  readonly #bySku = new Map<string, Product>();
  readonly #customers: Customer[];
  readonly #orders: Order[];
  readonly #customerGroups: CustomerGroup[];
  readonly #shipments: Shipment[];
  readonly #categories: Category[];
  /** Sorted by compareSourceItems, so paging by (source_code, sku) needs no sort. */
  readonly #sourceItems: SourceItem[];
  readonly #sourceItemsByKey = new Map<string, SourceItem>();
  readonly #sources: Set<string>;
  readonly #listeners = new Set<CatalogListener>();
  readonly #touchRng: Prng;
  #maxProductId = 0;

  /** Takes ownership of the arrays in `data`. */
  constructor(data: CatalogData, options: CatalogOptions = {}) {
    this.#products = byIdSorted(data.products, (p) => p.id);
    this.#customers = byIdSorted(data.customers, (c) => c.id);
    this.#orders = byIdSorted(data.orders, (o) => o.entity_id);
    this.#customerGroups = byIdSorted(data.customerGroups ?? generateCustomerGroups(4), (g) => g.id);
    this.#shipments = byIdSorted(data.shipments ?? [], (x) => x.entity_id);
    this.#categories = byIdSorted(data.categories ?? [], (c) => c.id);
    this.#sourceItems = [...(data.sourceItems ?? [])].sort(compareSourceItems);
    this.#sources = new Set(sourceCodes(1).map((c) => c.toLowerCase()));
    for (const item of this.#sourceItems) {
      const key = sourceItemKey(item.source_code, item.sku);
      if (this.#sourceItemsByKey.has(key))
        throw new RangeError(`duplicate source item in catalog data: ${item.source_code}/${item.sku}`);
      this.#sourceItemsByKey.set(key, item);
      this.#sources.add(item.source_code.toLowerCase());
    }
    for (const p of this.#products) {
      const key = skuKey(p.sku);
      if (this.#bySku.has(key)) throw new RangeError(`duplicate sku in catalog data: ${p.sku}`);
      this.#bySku.set(key, p);
      if (p.id > this.#maxProductId) this.#maxProductId = p.id;
    }
    this.#touchRng = new Prng((options.seed ?? 0) ^ 0x7f4a7c15);
  }

  static generate(options: GenerateOptions): Catalog {
    return new Catalog(generateCatalog(options), { seed: options.seed });
  }

  get products(): readonly Product[] {
    return this.#products;
  }

  get customers(): readonly Customer[] {
    return this.#customers;
  }

  get orders(): readonly Order[] {
    return this.#orders;
  }

  get customerGroups(): readonly CustomerGroup[] {
    return this.#customerGroups;
  }

  get shipments(): readonly Shipment[] {
    return this.#shipments;
  }

  get categories(): readonly Category[] {
    return this.#categories;
  }

  /** In (source_code, sku) order. */
  get sourceItems(): readonly SourceItem[] {
    return this.#sourceItems;
  }

  findSourceItem(sourceCode: string, sku: string): SourceItem | undefined {
    return this.#sourceItemsByKey.get(sourceItemKey(sourceCode, sku));
  }

  /**
   * Calls `listener` after every change, synchronously, with the changed row (the live object: read it
   * or copy it, never mutate it). Returns the function that removes it. A listener that throws does not
   * undo the change or fail the request; the error is reported as a process warning.
   */
  onChange(listener: CatalogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: CatalogChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        process.emitWarning(`A catalog change listener failed: ${String(error)}`, 'CatalogListenerWarning');
      }
    }
  }

  findProduct(sku: string): Product | undefined {
    return this.#bySku.get(skuKey(sku));
  }

  /** `GET /V1/products/:sku`. */
  getProduct(sku: string): Product {
    const product = this.findProduct(sku);
    if (!product) throw new CatalogNotFoundError(MESSAGES.productNotFound);
    return product;
  }

  /** `GET /V1/orders/:id`. */
  getOrder(entityId: number): Order {
    const order = findById(this.#orders, (o) => o.entity_id, entityId);
    if (!order) throw new CatalogNotFoundError(MESSAGES.entityNotFound);
    return order;
  }

  /** `GET /V1/customers/:id`. */
  getCustomer(id: number): Customer {
    const customer = findById(this.#customers, (c) => c.id, id);
    if (!customer)
      throw new CatalogNotFoundError(MESSAGES.noSuchEntityField, { fieldName: 'customerId', fieldValue: id });
    return customer;
  }

  /** Adds a product from a `product` body object; the id is the highest so far plus one. */
  createProduct(input: unknown, now: Date): Product {
    const f = validateProduct(input, true);
    const sku = f.sku as string;
    if (this.#bySku.has(skuKey(sku))) throw new CatalogInputError(MESSAGES.attributeNotUnique, ['SKU']);
    const ts = toMagentoDate(now);
    const name = f.name as string;
    let customAttributes = f.custom_attributes ?? [];
    // Magento derives the url key from the name when none is given.
    if (!customAttributes.some((a) => a.attribute_code === 'url_key')) {
      customAttributes = [...customAttributes, { attribute_code: 'url_key', value: slugify(name) }];
    }
    const product: Product = {
      id: this.#maxProductId + 1,
      sku,
      name,
      attribute_set_id: f.attribute_set_id ?? 4,
      price: f.price ?? 0,
      status: f.status ?? 1,
      visibility: f.visibility ?? 4,
      type_id: f.type_id ?? 'simple',
      created_at: ts,
      updated_at: ts,
      extension_attributes: { website_ids: f.website_ids ?? [1] },
      custom_attributes: mergeAttributes([], customAttributes),
    };
    if (f.weight !== undefined) product.weight = f.weight;
    this.#products.push(product);
    this.#bySku.set(skuKey(sku), product);
    this.#maxProductId = product.id;
    this.#emit({ entity: 'products', action: 'created', key: product.sku, row: product, at: now });
    return product;
  }

  /** `DELETE /V1/products/{sku}`: Magento answers `true`. */
  deleteProduct(sku: string, now = new Date()): true {
    const product = this.getProduct(sku);
    this.#bySku.delete(skuKey(product.sku));
    const at = this.#products.indexOf(product);
    if (at >= 0) this.#products.splice(at, 1);
    this.#emit({ entity: 'products', action: 'deleted', key: product.sku, row: product, at: now });
    // MSI deletes a product's source items with it (InventoryCatalog's DeleteSourceItemsPlugin).
    const key = skuKey(product.sku);
    const gone: SourceItem[] = [];
    let kept = 0;
    for (const item of this.#sourceItems) {
      if (skuKey(item.sku) === key) gone.push(item);
      else this.#sourceItems[kept++] = item;
    }
    this.#sourceItems.length = kept;
    for (const item of gone) {
      this.#sourceItemsByKey.delete(sourceItemKey(item.source_code, item.sku));
      this.#emit({
        entity: 'source_items',
        action: 'deleted',
        key: sourceItemChangeKey(item),
        row: item,
        at: now,
      });
    }
    return true;
  }

  /** Removes a customer (the admin's Delete); false when there was none. */
  deleteCustomer(id: number, now = new Date()): boolean {
    const customer = removeById(this.#customers, (c) => c.id, id);
    if (customer === undefined) return false;
    this.#emit({ entity: 'customers', action: 'deleted', key: String(id), row: customer, at: now });
    return true;
  }

  /** Removes an order (an admin extension's mass delete; Magento's REST has none); false when there was none. */
  deleteOrder(entityId: number): boolean {
    // Not reported to change listeners: the simulator's webhooks send no order deletions.
    return removeById(this.#orders, (o) => o.entity_id, entityId) !== undefined;
  }

  /**
   * Merges the known fields of a `product` body into an existing product and bumps updated_at. A sku in
   * the body is ignored: the path names the product.
   */
  updateProduct(sku: string, patch: unknown, now: Date): Product {
    const product = this.getProduct(sku);
    const f = validateProduct(patch, false);
    if (f.name !== undefined) product.name = f.name;
    if (f.attribute_set_id !== undefined) product.attribute_set_id = f.attribute_set_id;
    if (f.price !== undefined) product.price = f.price;
    if (f.status !== undefined) product.status = f.status;
    if (f.visibility !== undefined) product.visibility = f.visibility;
    if (f.type_id !== undefined) product.type_id = f.type_id;
    if (f.weight !== undefined) product.weight = f.weight;
    if (f.website_ids !== undefined) product.extension_attributes = { website_ids: f.website_ids };
    if (f.custom_attributes !== undefined) {
      product.custom_attributes = mergeAttributes(product.custom_attributes, f.custom_attributes);
    }
    product.updated_at = toMagentoDate(now);
    this.#emit({ entity: 'products', action: 'updated', key: product.sku, row: product, at: now });
    return product;
  }

  /**
   * Changes the price of `count` distinct products (all of them if fewer exist) and bumps their
   * updated_at, as a stand-in for edits made in the admin. Returns their skus in entity id order.
   */
  touchProducts(count: number, now: Date): string[] {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`count must be a non-negative integer, got ${count}`);
    const n = this.#products.length;
    const k = Math.min(count, n);
    let picked: number[];
    if (k * 2 <= n) {
      const seen = new Set<number>();
      while (seen.size < k) seen.add(this.#touchRng.int(0, n - 1));
      picked = [...seen];
    } else {
      // Partial Fisher-Yates: rejection sampling slows down when most rows are wanted.
      const all = Array.from({ length: n }, (_, i) => i);
      for (let i = 0; i < k; i++) {
        const j = this.#touchRng.int(i, n - 1);
        [all[i], all[j]] = [all[j] as number, all[i] as number];
      }
      picked = all.slice(0, k);
    }
    picked.sort((a, b) => a - b);
    const ts = toMagentoDate(now);
    return picked.map((i) => {
      const p = this.#products[i] as Product;
      const factor = 0.9 + this.#touchRng.next() * 0.2;
      let price = Math.round(p.price * factor * 100) / 100;
      if (price === p.price) price = Math.round((p.price + 0.01) * 100) / 100;
      p.price = price;
      p.updated_at = ts;
      this.#emit({ entity: 'products', action: 'updated', key: p.sku, row: p, at: now });
      return p.sku;
    });
  }

  /** Indexes of `count` distinct rows out of `n` (all when fewer), in ascending order. */
  #pick(count: number, n: number): number[] {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`count must be a non-negative integer, got ${count}`);
    const seen = new Set<number>();
    while (seen.size < Math.min(count, n)) seen.add(this.#touchRng.int(0, n - 1));
    return [...seen].sort((a, b) => a - b);
  }

  /** Edits `count` customers (a new last-name suffix) as an admin would; returns their ids. */
  touchCustomers(count: number, now: Date): number[] {
    const ts = toMagentoDate(now);
    return this.#pick(count, this.#customers.length).map((i) => {
      const c = this.#customers[i] as Customer;
      c.lastname = `${c.lastname.replace(/ \(\d+\)$/, '')} (${this.#touchRng.int(1, 9999)})`;
      c.updated_at = ts;
      this.#emit({ entity: 'customers', action: 'updated', key: String(c.id), row: c, at: now });
      return c.id;
    });
  }

  /** Moves `count` orders to the next status, as processing them would; returns their entity ids. */
  touchOrders(count: number, now: Date): number[] {
    const ts = toMagentoDate(now);
    return this.#pick(count, this.#orders.length).map((i) => {
      const o = this.#orders[i] as Order;
      const at = ORDER_STATUSES.findIndex(([, status]) => status === o.status);
      const [state, status] = ORDER_STATUSES[(at + 1) % ORDER_STATUSES.length] as [OrderState, string];
      o.state = state;
      o.status = status;
      o.updated_at = ts;
      this.#emit({ entity: 'orders', action: 'updated', key: String(o.entity_id), row: o, at: now });
      return o.entity_id;
    });
  }

  searchProducts(criteria: SearchCriteria): SearchResult<Product> {
    return applySearchCriteria(this.#products, criteria, PRODUCT_FIELDS, { ascendingBy: ENTITY_ID });
  }

  searchOrders(criteria: SearchCriteria): SearchResult<Order> {
    return applySearchCriteria(this.#orders, criteria, ORDER_FIELDS, { ascendingBy: ENTITY_ID });
  }

  searchCustomers(criteria: SearchCriteria): SearchResult<Customer> {
    return applySearchCriteria(this.#customers, criteria, CUSTOMER_FIELDS, {
      ascendingBy: ENTITY_ID,
    });
  }

  searchCustomerGroups(criteria: SearchCriteria): SearchResult<CustomerGroup> {
    return applySearchCriteria(this.#customerGroups, criteria, CUSTOMER_GROUP_FIELDS, {
      ascendingBy: ['id', 'customer_group_id'],
    });
  }

  searchShipments(criteria: SearchCriteria): SearchResult<Shipment> {
    return applySearchCriteria(this.#shipments, criteria, SHIPMENT_FIELDS, { ascendingBy: ['entity_id'] });
  }

  searchCategories(criteria: SearchCriteria): SearchResult<Category> {
    return applySearchCriteria(this.#categories, criteria, CATEGORY_FIELDS, { ascendingBy: ENTITY_ID });
  }

  searchSourceItems(criteria: SearchCriteria): SearchResult<SourceItem> {
    return applySearchCriteria(this.#sourceItems, criteria, SOURCE_ITEM_FIELDS, {
      sortedBy: ['source_code', 'sku'],
    });
  }

  /**
   * `PUT /V1/customers/:customerId` (CustomerRepository::save): the body's customer replaces the stored
   * one's email and names (required, as Magento validates them); other known fields are kept when absent.
   * The id comes from the path, as Magento overrides the body's with it.
   */
  updateCustomer(id: number, input: unknown, now: Date): Customer {
    const customer = this.getCustomer(id);
    const f = validateCustomer(input);
    if (f.group_id !== undefined && !findById(this.#customerGroups, (g) => g.id, f.group_id)) {
      throw new CatalogNotFoundError(MESSAGES.noSuchEntityField, { fieldName: 'id', fieldValue: f.group_id });
    }
    const websiteId = f.website_id ?? customer.website_id;
    const email = f.email.toLowerCase();
    if (
      this.#customers.some(
        (c) => c.id !== id && c.website_id === websiteId && c.email.toLowerCase() === email,
      )
    ) {
      throw new CatalogInputError(MESSAGES.emailNotUnique);
    }
    customer.email = f.email;
    customer.firstname = f.firstname;
    customer.lastname = f.lastname;
    customer.website_id = websiteId;
    if (f.group_id !== undefined) customer.group_id = f.group_id;
    if (f.store_id !== undefined) customer.store_id = f.store_id;
    if (f.disable_auto_group_change !== undefined)
      customer.disable_auto_group_change = f.disable_auto_group_change;
    customer.updated_at = toMagentoDate(now);
    this.#emit({ entity: 'customers', action: 'updated', key: String(id), row: customer, at: now });
    return customer;
  }

  /**
   * `POST /V1/inventory/source-items` (SourceItemsSaveInterface): every item is validated before any is
   * saved; then each is inserted or updated by (source_code, sku), as MSI's INSERT ... ON DUPLICATE KEY does.
   */
  saveSourceItems(input: unknown, now: Date): void {
    const items = validateSourceItems(input);
    // The source must exist (a foreign key in Magento, which reports it as a failed save).
    if (items.some((i) => !this.#sources.has(i.source_code.toLowerCase()))) {
      throw new CatalogInputError(MESSAGES.sourceItemNotSaved);
    }
    for (const item of items)
      this.#saveSourceItem(item.sku, item.source_code, item.quantity, item.status, now);
  }

  #saveSourceItem(
    sku: string,
    sourceCode: string,
    quantity: number,
    status: SourceItemStatus,
    now: Date,
  ): void {
    const key = sourceItemKey(sourceCode, sku);
    const existing = this.#sourceItemsByKey.get(key);
    if (existing) {
      existing.quantity = quantity;
      existing.status = status;
      this.#emit({
        entity: 'source_items',
        action: 'updated',
        key: sourceItemChangeKey(existing),
        row: existing,
        at: now,
      });
      return;
    }
    const item: SourceItem = { sku, source_code: sourceCode, quantity, status };
    let lo = 0;
    let hi = this.#sourceItems.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareSourceItems(this.#sourceItems[mid] as SourceItem, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.#sourceItems.splice(lo, 0, item);
    this.#sourceItemsByKey.set(key, item);
    this.#emit({
      entity: 'source_items',
      action: 'created',
      key: sourceItemChangeKey(item),
      row: item,
      at: now,
    });
  }
}
