import type { Connector, SyncPage, Transport } from '../types.js';

interface MagentoSearchResult<T> {
  items?: T[];
  total_count?: number;
}

/**
 * A searchCriteria connector: `updated_at >= since`, sorted, paged. The store repeats the last
 * page past the end, so callers stop by total_count (contract §6.2).
 *
 * With `fullScan` the entity has no `updated_at`: every run reads every row in `order` (a unique key,
 * so pages are stable) and the record store's content hash decides what is written.
 */
export function searchConnector<Raw extends object>(options: {
  entity: string;
  label: string;
  path: string;
  /** The fields a row is unique by, in the order pages are read. */
  order: readonly (keyof Raw & string)[];
  /** The local record id; default: the one field of `order`. */
  recordId?: (raw: Raw) => string;
  fullScan?: boolean;
  /**
   * The search field whose value is the local record id (`entity_id` for products, customers and
   * orders): with it the connector can fetch given rows (`fetchByIds`, for webhooks).
   */
  idFilterField?: string;
}): Connector<Raw> {
  const recordId = options.recordId ?? ((raw: Raw) => String(raw[options.order[0] as keyof Raw & string]));
  return {
    entity: options.entity,
    label: options.label,
    ...(options.fullScan ? { fullScan: true } : {}),
    async fetchPage(transport: Transport, request): Promise<SyncPage<Raw>> {
      const query: [string, string][] = [];
      if (request.since && !options.fullScan) {
        query.push(
          ['searchCriteria[filter_groups][0][filters][0][field]', 'updated_at'],
          ['searchCriteria[filter_groups][0][filters][0][value]', request.since],
          ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'gteq'],
        );
      }
      const order =
        request.order === 'id' || options.fullScan ? options.order : ['updated_at', ...options.order];
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
    ...(options.idFilterField
      ? {
          async fetchByIds(transport: Transport, ids: string[]): Promise<Raw[]> {
            if (ids.length === 0) return [];
            const result = await transport.get<MagentoSearchResult<Raw>>(options.path, [
              ['searchCriteria[filter_groups][0][filters][0][field]', options.idFilterField as string],
              ['searchCriteria[filter_groups][0][filters][0][value]', ids.join(',')],
              ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'in'],
              // One page holds them all: the store would repeat its last page past the end.
              ['searchCriteria[pageSize]', String(ids.length)],
              ['searchCriteria[currentPage]', '1'],
            ]);
            return result.items ?? [];
          },
        }
      : {}),
    toRecord(raw: Raw) {
      const updatedAt = (raw as { updated_at?: unknown }).updated_at;
      return {
        id: recordId(raw),
        updatedAt: typeof updatedAt === 'string' ? updatedAt : '',
        data: raw as unknown as Record<string, unknown>,
      };
    },
  };
}
