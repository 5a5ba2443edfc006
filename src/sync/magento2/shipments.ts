import { searchConnector } from './search-connector.js';

/** Shipments (`GET /V1/shipments`): rows carry `order_id` and `updated_at`, so runs are incremental. */
export const shipmentsConnector = searchConnector<{
  entity_id: number;
  order_id: number;
  updated_at?: string;
}>({
  entity: 'shipments',
  label: 'Shipments',
  path: 'V1/shipments',
  order: ['entity_id'],
});
