import { searchConnector } from './search-connector.js';

export const productsConnector = searchConnector<{ id: number; updated_at?: string }>({
  entity: 'products',
  label: 'Products',
  path: 'V1/products',
  order: ['id'],
  idFilterField: 'entity_id',
});

export const customersConnector = searchConnector<{ id: number; updated_at?: string }>({
  entity: 'customers',
  label: 'Customers',
  path: 'V1/customers/search',
  order: ['id'],
  idFilterField: 'entity_id',
});

export const ordersConnector = searchConnector<{ entity_id: number; updated_at?: string }>({
  entity: 'orders',
  label: 'Orders',
  path: 'V1/orders',
  order: ['entity_id'],
  idFilterField: 'entity_id',
});
