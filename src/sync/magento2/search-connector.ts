import { searchCriteria, type SearchResults } from '../../magento/search-criteria.js';
import type { Connector, IdPage, SyncPage, Transport } from '../types.js';

/** An answer missing `items` or `total_count` reads as an empty page. */
type SearchAnswer<T> = Partial<SearchResults<T>>;

/**
 * A searchCriteria connector: `updated_at >= since`, sorted, paged. The store repeats the last
 * page past the end, so callers stop by total_count (contract §6.2).
 *
 * With `fullScan` the entity has no `updated_at`: every run reads every row in `order` (a unique key,
 * so pages are stable) and the record store's content hash decides what is written.
 *
 * When one field is the record id (`order` of one field, no `recordId`), it also lists ids for
 * deletion scans, by keyset (`id > last seen`, never a page number: a row deleted during the scan
 * would shift a later id onto a page already read, and that id would look deleted).
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
   * The search field whose value is the local record id (`entity_id` for products, customers,
   * orders and categories, which answer `id`): with it the connector can fetch given rows
   * (`fetchByIds`, for webhooks), and a deletion scan filters and sorts ids by it.
   */
  idFilterField?: string;
}): Connector<Raw> {
  const recordId = options.recordId ?? ((raw: Raw) => String(raw[options.order[0] as keyof Raw & string]));
  const idField = options.order.length === 1 && !options.recordId ? options.order[0] : undefined;
  return {
    entity: options.entity,
    label: options.label,
    ...(options.fullScan ? { fullScan: true } : {}),
    async fetchPage(transport: Transport, request): Promise<SyncPage<Raw>> {
      let criteria = searchCriteria();
      if (request.since && !options.fullScan) criteria = criteria.filter('updated_at', request.since, 'gteq');
      const order =
        request.order === 'id' || options.fullScan ? options.order : ['updated_at', ...options.order];
      for (const field of order) criteria = criteria.sort(field, 'ASC');
      const query = criteria.pageSize(request.pageSize).currentPage(request.page).toPairs();
      const result = await transport.get<SearchAnswer<Raw>>(options.path, query);
      return { items: result.items ?? [], totalCount: result.total_count ?? 0 };
    },
    ...(idField === undefined
      ? {}
      : {
          async fetchIds(transport: Transport, request: { after: string | null; pageSize: number }) {
            const field = options.idFilterField ?? idField;
            let criteria = searchCriteria();
            if (request.after !== null) criteria = criteria.filter(field, request.after, 'gt');
            const query: [string, string][] = [
              ...criteria.sort(field, 'ASC').pageSize(request.pageSize).currentPage(1).toPairs(),
              // Magento's partial response: the ids and the count, not whole rows.
              ['fields', `items[${idField}],total_count`],
            ];
            return idPage(await transport.get<unknown>(options.path, query), idField, options.label);
          },
        }),
    ...(options.idFilterField
      ? {
          async fetchByIds(transport: Transport, ids: string[]): Promise<Raw[]> {
            if (ids.length === 0) return [];
            const criteria = searchCriteria()
              .filter(options.idFilterField as string, ids, 'in')
              // One page holds them all: the store would repeat its last page past the end.
              .pageSize(ids.length)
              .currentPage(1);
            const result = await transport.get<SearchAnswer<Raw>>(options.path, criteria.toPairs());
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
