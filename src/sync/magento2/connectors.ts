import type { Connector, SyncPage, Transport } from '../types.js';

interface MagentoSearchResult<T> {
  items?: T[];
  total_count?: number;
}

interface Row {
  updated_at?: string;
}

/**
 * A searchCriteria connector: `updated_at >= since`, sorted, paged. The store repeats the last
 * page past the end, so callers stop by total_count (contract §6.2).
 */
function searchConnector<Raw extends Row>(options: {
  entity: string;
  label: string;
  path: string;
  idField: keyof Raw & string;
  /** The search field that filters by entity id (`entity_id` on every Magento search endpoint here). */
  idFilterField?: string;
}): Connector<Raw> {
  return {
    entity: options.entity,
    label: options.label,
    async fetchPage(transport: Transport, request): Promise<SyncPage<Raw>> {
      const query: [string, string][] = [];
      if (request.since) {
        query.push(
          ['searchCriteria[filter_groups][0][filters][0][field]', 'updated_at'],
          ['searchCriteria[filter_groups][0][filters][0][value]', request.since],
          ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'gteq'],
        );
      }
      const order = request.order === 'id' ? [options.idField] : ['updated_at', options.idField];
      order.forEach((field, i) => {
        query.push(
          [`searchCriteria[sortOrders][${i}][field]`, field],
          [`searchCriteria[sortOrders][${i}][direction]`, 'ASC'],
        );
      });
      query.push(
        ['searchCriteria[pageSize]', String(request.pageSize)],
        ['searchCriteria[currentPage]', String(request.page)],
      );
      const result = await transport.get<MagentoSearchResult<Raw>>(options.path, query);
      return { items: result.items ?? [], totalCount: result.total_count ?? 0 };
    },
    async fetchByIds(transport: Transport, ids: string[]): Promise<Raw[]> {
      if (ids.length === 0) return [];
      const result = await transport.get<MagentoSearchResult<Raw>>(options.path, [
        ['searchCriteria[filter_groups][0][filters][0][field]', options.idFilterField ?? 'entity_id'],
        ['searchCriteria[filter_groups][0][filters][0][value]', ids.join(',')],
        ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'in'],
        // One page holds them all: the store would repeat its last page past the end.
        ['searchCriteria[pageSize]', String(ids.length)],
        ['searchCriteria[currentPage]', '1'],
      ]);
      return result.items ?? [];
    },
    toRecord(raw: Raw) {
      return {
        id: String(raw[options.idField]),
        updatedAt: raw.updated_at ?? '',
        data: raw as unknown as Record<string, unknown>,
      };
    },
  };
}

export const productsConnector = searchConnector<Row & { id: number }>({
  entity: 'products',
  label: 'Products',
  path: 'V1/products',
  idField: 'id',
});

export const customersConnector = searchConnector<Row & { id: number }>({
  entity: 'customers',
  label: 'Customers',
  path: 'V1/customers/search',
  idField: 'id',
});

export const ordersConnector = searchConnector<Row & { entity_id: number }>({
  entity: 'orders',
  label: 'Orders',
  path: 'V1/orders',
  idField: 'entity_id',
});
