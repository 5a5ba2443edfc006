import { searchConnector } from './search-connector.js';

/** Customer groups (`GET /V1/customerGroups/search`): no `updated_at`, and few rows, so a full scan each run. */
export const customerGroupsConnector = searchConnector<{ id: number }>({
  entity: 'customer_groups',
  label: 'Customer groups',
  path: 'V1/customerGroups/search',
  order: ['id'],
  fullScan: true,
});
