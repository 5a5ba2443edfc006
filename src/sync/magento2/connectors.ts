import type { Connector, IdPage, SyncPage, Transport } from '../types.js';

interface MagentoSearchResult<T> {
  items?: T[];
  total_count?: number;
}

interface Row {
  updated_at?: string;
}

/**
 * A searchCriteria connector: `updated_at >= since`, sorted, paged. The store repeats the last
 * page past the end, so callers stop by total_count (contract §6.2). It lists ids for deletion
 * scans too, by keyset (`id > last seen`, never a page number: a row deleted during the scan would
 * shift a later id onto a page already read, and that id would look deleted).
 */
export function searchConnector<Raw extends Row>(options: {
  entity: string;
  label: string;
  path: string;
  /** The id field of the answer's items. */
  idField: keyof Raw & string;
  /**
   * The field searchCriteria filters and sorts ids by, when not `idField`: EAV entities (products,
   * customers) answer `id` but filter on their `entity_id` column.
   */
  idSearchField?: string;
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
    async fetchIds(transport: Transport, request): Promise<IdPage> {
      const field = options.idSearchField ?? options.idField;
      const query: [string, string][] = [];
      if (request.after !== null) {
        query.push(
          ['searchCriteria[filter_groups][0][filters][0][field]', field],
          ['searchCriteria[filter_groups][0][filters][0][value]', request.after],
          ['searchCriteria[filter_groups][0][filters][0][condition_type]', 'gt'],
        );
      }
      query.push(
        ['searchCriteria[sortOrders][0][field]', field],
        ['searchCriteria[sortOrders][0][direction]', 'ASC'],
        ['searchCriteria[pageSize]', String(request.pageSize)],
        ['searchCriteria[currentPage]', '1'],
        // Magento's partial response: the ids and the count, not whole rows.
        ['fields', `items[${options.idField}],total_count`],
      );
      return idPage(await transport.get<unknown>(options.path, query), options.idField, options.label);
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

/**
 * Reads an id page strictly: a deletion scan tombstones whatever this leaves out, so an answer it
 * cannot read (no items list: a store that ignored or refused `fields`) is an error, never "no ids".
 * An empty list under `fields` comes back as `"items": null`.
 */
function idPage(answer: unknown, idField: string, label: string): IdPage {
  const { items, total_count: totalCount } = (answer ?? {}) as { items?: unknown; total_count?: unknown };
  if (typeof totalCount !== 'number' || !(Array.isArray(items) || (items === null && totalCount === 0)))
    throw new Error(`${label}: the store's answer to an id listing has no items and total_count.`);
  const ids = (items ?? []).map((item) => {
    const id = (item as Record<string, unknown> | null)?.[idField];
    if (typeof id !== 'number' && (typeof id !== 'string' || id === ''))
      throw new Error(`${label}: an item of the id listing has no ${idField}.`);
    return String(id);
  });
  return { ids, totalCount };
}

export const productsConnector = searchConnector<Row & { id: number }>({
  entity: 'products',
  label: 'Products',
  path: 'V1/products',
  idField: 'id',
  idSearchField: 'entity_id',
});

export const customersConnector = searchConnector<Row & { id: number }>({
  entity: 'customers',
  label: 'Customers',
  path: 'V1/customers/search',
  idField: 'id',
  idSearchField: 'entity_id',
});

export const ordersConnector = searchConnector<Row & { entity_id: number }>({
  entity: 'orders',
  label: 'Orders',
  path: 'V1/orders',
  idField: 'entity_id',
});
