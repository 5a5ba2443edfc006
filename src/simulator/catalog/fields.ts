import type { FieldMap } from './search-criteria.js';
import type { Category, Customer, CustomerGroup, Order, Product, Shipment, SourceItem } from './types.js';

/** Fields `GET /V1/products` can filter and sort on; anything else is Magento's "Invalid attribute name". */
export const PRODUCT_FIELDS: FieldMap<Product> = {
  entity_id: (p) => p.id,
  id: (p) => p.id,
  sku: (p) => p.sku,
  name: (p) => p.name,
  price: (p) => p.price,
  status: (p) => p.status,
  visibility: (p) => p.visibility,
  type_id: (p) => p.type_id,
  attribute_set_id: (p) => p.attribute_set_id,
  weight: (p) => p.weight ?? null,
  created_at: (p) => p.created_at,
  updated_at: (p) => p.updated_at,
};

export const ORDER_FIELDS: FieldMap<Order> = {
  entity_id: (o) => o.entity_id,
  increment_id: (o) => o.increment_id,
  status: (o) => o.status,
  state: (o) => o.state,
  customer_email: (o) => o.customer_email,
  customer_id: (o) => o.customer_id,
  grand_total: (o) => o.grand_total,
  created_at: (o) => o.created_at,
  updated_at: (o) => o.updated_at,
};

export const CUSTOMER_FIELDS: FieldMap<Customer> = {
  entity_id: (c) => c.id,
  id: (c) => c.id,
  email: (c) => c.email,
  firstname: (c) => c.firstname,
  lastname: (c) => c.lastname,
  group_id: (c) => c.group_id,
  created_at: (c) => c.created_at,
  updated_at: (c) => c.updated_at,
};

export const CUSTOMER_GROUP_FIELDS: FieldMap<CustomerGroup> = {
  id: (g) => g.id,
  customer_group_id: (g) => g.id,
  code: (g) => g.code,
  customer_group_code: (g) => g.code,
  tax_class_id: (g) => g.tax_class_id,
};

export const SHIPMENT_FIELDS: FieldMap<Shipment> = {
  entity_id: (s) => s.entity_id,
  increment_id: (s) => s.increment_id,
  order_id: (s) => s.order_id,
  customer_id: (s) => s.customer_id,
  store_id: (s) => s.store_id,
  total_qty: (s) => s.total_qty,
  created_at: (s) => s.created_at,
  updated_at: (s) => s.updated_at,
};

export const CATEGORY_FIELDS: FieldMap<Category> = {
  entity_id: (c) => c.id,
  id: (c) => c.id,
  parent_id: (c) => c.parent_id,
  name: (c) => c.name,
  is_active: (c) => (c.is_active ? 1 : 0),
  level: (c) => c.level,
  position: (c) => c.position,
  path: (c) => c.path,
  created_at: (c) => c.created_at,
  updated_at: (c) => c.updated_at,
};

/** inventory_source_item's columns; there is no updated_at to filter on. */
export const SOURCE_ITEM_FIELDS: FieldMap<SourceItem> = {
  sku: (i) => i.sku,
  source_code: (i) => i.source_code,
  quantity: (i) => i.quantity,
  status: (i) => i.status,
};
