/**
 * REST JSON shapes, snake_case as Magento serialises them. Timestamps use Magento's
 * `YYYY-MM-DD HH:MM:SS` in UTC, which also sorts correctly as plain strings.
 */

export type MagentoDateTime = string;

export const PRODUCT_TYPES = ['simple', 'virtual', 'configurable'] as const;
export type ProductTypeId = (typeof PRODUCT_TYPES)[number];

/** 1 enabled, 2 disabled. */
export type ProductStatus = 1 | 2;

/** 1 not visible individually, 2 catalog, 3 search, 4 catalog and search. */
export type ProductVisibility = 1 | 2 | 3 | 4;

export interface CustomAttribute {
  attribute_code: string;
  value: string | number | boolean | null | string[];
}

export interface Product {
  id: number;
  sku: string;
  name: string;
  attribute_set_id: number;
  price: number;
  status: ProductStatus;
  visibility: ProductVisibility;
  type_id: ProductTypeId;
  created_at: MagentoDateTime;
  updated_at: MagentoDateTime;
  /** Absent on virtual products, as Magento omits it. */
  weight?: number;
  extension_attributes: { website_ids: number[] };
  custom_attributes: CustomAttribute[];
}

/** What `POST /V1/products` and `PUT /V1/products/:sku` accept (validated at run time). */
export interface ProductInput {
  sku?: string;
  name?: string;
  attribute_set_id?: number;
  price?: number;
  status?: ProductStatus;
  visibility?: ProductVisibility;
  type_id?: ProductTypeId;
  weight?: number;
  extension_attributes?: { website_ids?: number[] };
  custom_attributes?: CustomAttribute[];
}

/** A customer as `GET /V1/customers/search` lists it. */
export interface Customer {
  id: number;
  group_id: number;
  email: string;
  firstname: string;
  lastname: string;
  created_at: MagentoDateTime;
  updated_at: MagentoDateTime;
  created_in: string;
  store_id: number;
  website_id: number;
  addresses: unknown[];
  disable_auto_group_change: number;
}

export interface OrderItem {
  item_id: number;
  sku: string;
  name: string;
  qty_ordered: number;
  price: number;
  row_total: number;
  product_id: number;
}

export type OrderState = 'new' | 'processing' | 'complete' | 'canceled' | 'holded' | 'closed';

/** An order as `GET /V1/orders` lists it, trimmed to the fields integrations usually read. */
export interface Order {
  entity_id: number;
  increment_id: string;
  state: OrderState;
  status: string;
  customer_email: string;
  customer_firstname: string;
  customer_lastname: string;
  /** Null for guest orders. */
  customer_id: number | null;
  customer_is_guest: 0 | 1;
  base_currency_code: string;
  order_currency_code: string;
  grand_total: number;
  subtotal: number;
  total_qty_ordered: number;
  created_at: MagentoDateTime;
  updated_at: MagentoDateTime;
  store_id: number;
  items: OrderItem[];
}

export interface CatalogData {
  products: Product[];
  customers: Customer[];
  orders: Order[];
  /** Absent: Magento's four default groups. */
  customerGroups?: CustomerGroup[];
  shipments?: Shipment[];
  categories?: Category[];
  sourceItems?: SourceItem[];
}

/** A customer group as `GET /V1/customerGroups/search` lists it. */
export interface CustomerGroup {
  id: number;
  code: string;
  tax_class_id: number;
  tax_class_name: string;
}

export interface ShipmentItem {
  entity_id: number;
  parent_id: number;
  order_item_id: number;
  product_id: number;
  sku: string;
  name: string;
  qty: number;
  price: number;
}

/** A shipment as `GET /V1/shipments` lists it, trimmed to the fields integrations usually read. */
export interface Shipment {
  entity_id: number;
  increment_id: string;
  order_id: number;
  store_id: number;
  customer_id: number | null;
  total_qty: number;
  created_at: MagentoDateTime;
  updated_at: MagentoDateTime;
  items: ShipmentItem[];
  tracks: { track_number: string; carrier_code: string; title: string }[];
}

/** A category as `GET /V1/categories/list` lists it. */
export interface Category {
  id: number;
  parent_id: number;
  name: string;
  is_active: boolean;
  position: number;
  level: number;
  /** Child ids, comma-separated, as Magento serialises them. */
  children: string;
  path: string;
  include_in_menu: boolean;
  created_at: MagentoDateTime;
  updated_at: MagentoDateTime;
  custom_attributes: CustomAttribute[];
}

/** 1 in stock, 0 out of stock. */
export type SourceItemStatus = 0 | 1;

/** An MSI source item: a product's quantity at one source. Magento keeps no `updated_at` on it. */
export interface SourceItem {
  sku: string;
  source_code: string;
  quantity: number;
  status: SourceItemStatus;
}
