import type { FieldMap } from '../rest/search-criteria.js';
import type { Customer, Order, Product } from './types.js';

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
