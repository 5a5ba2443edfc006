import { MagentoApiError } from './errors.js';
import { searchCriteria, type SearchCriteria } from './search-criteria.js';

/** Magento's SearchResults envelope (contract §6.2). */
export interface SearchResults<T> {
  items: T[];
  search_criteria?: unknown;
  total_count: number;
}

export interface SearchPage<T> {
  items: T[];
  /** 1-based. */
  currentPage: number;
  pageSize: number;
  totalCount: number;
  pageCount: number;
}

interface Getter {
  get<R>(path: string, options?: { searchCriteria?: SearchCriteria }): Promise<R>;
}

/**
 * Pages of a search endpoint, stopping by `total_count`: past the end Magento returns the last
 * page again rather than an empty one. Sort by a stable field (e.g. entity_id) when the data may
 * change while paging, since pages are offsets.
 */
export async function* paginate<T>(
  client: Getter,
  path: string,
  criteria: SearchCriteria = searchCriteria(),
  pageSize = 100,
  options: { maxPages?: number } = {},
): AsyncGenerator<SearchPage<T>, void, undefined> {
  const maxPages = options.maxPages ?? 10_000;
  for (let page = 1; page <= maxPages; page++) {
    const result = await client.get<SearchResults<T>>(path, {
      searchCriteria: criteria.pageSize(pageSize).currentPage(page),
    });
    if (!result || !Array.isArray(result.items) || typeof result.total_count !== 'number') {
      throw new MagentoApiError({
        status: 200,
        url: path,
        rawMessage: `${path} did not answer with a search result ({items, total_count}); is it a search endpoint?`,
      });
    }
    const pageCount = Math.ceil(result.total_count / pageSize);
    if (result.items.length === 0 || page > pageCount) return;
    yield { items: result.items, currentPage: page, pageSize, totalCount: result.total_count, pageCount };
    if (page >= pageCount) return;
  }
}

/** The items of every page, one by one. */
export async function* paginateItems<T>(
  client: Getter,
  path: string,
  criteria?: SearchCriteria,
  pageSize?: number,
): AsyncGenerator<T, void, undefined> {
  for await (const page of paginate<T>(client, path, criteria, pageSize)) yield* page.items;
}
