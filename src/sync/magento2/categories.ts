import { searchConnector } from './search-connector.js';

/** Categories (`GET /V1/categories/list`, the searchCriteria list; `/V1/categories` is the tree). */
export const categoriesConnector = searchConnector<{ id: number; updated_at?: string }>({
  entity: 'categories',
  label: 'Categories',
  path: 'V1/categories/list',
  order: ['id'],
  idFilterField: 'entity_id',
});
