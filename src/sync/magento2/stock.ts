import { searchCriteria } from '../../magento/search-criteria.js';
import type { Connector, Transport } from '../types.js';
import { searchConnector } from './search-connector.js';

export interface SourceItemRow {
  sku: string;
  source_code: string;
  quantity: number;
  status: number;
}

/**
 * The local id of a source item: unique as (source_code, sku) is in Magento. The source code is
 * percent-encoded, so the first "/" always ends it whatever the sku holds.
 */
export const sourceItemId = (row: Pick<SourceItemRow, 'sku' | 'source_code'>): string =>
  `${encodeURIComponent(row.source_code)}/${row.sku}`;

/**
 * Stock as MSI source items (`GET /V1/inventory/source-items`). Magento keeps no `updated_at` on
 * them, so every run is a full scan in (source_code, sku) order, Magento's unique key for the table;
 * content hashes keep unchanged rows from being written.
 */
const scanning = searchConnector<SourceItemRow>({
  entity: 'stock',
  label: 'Stock (source items)',
  path: 'V1/inventory/source-items',
  order: ['source_code', 'sku'],
  recordId: sourceItemId,
  fullScan: true,
});

/** A search's value list stays short: proxies refuse request lines past about 8 KB. */
const MAX_SKUS_PER_SEARCH = 100;
const MAX_SKU_CHARS_PER_SEARCH = 2_000;

interface Pair {
  source: string;
  sku: string;
}

function pairsOf(ids: string[]): Pair[] {
  return ids.flatMap((id) => {
    const slash = id.indexOf('/');
    if (slash <= 0) return [];
    return [{ source: decodeURIComponent(id.slice(0, slash)), sku: id.slice(slash + 1) }];
  });
}

/**
 * The searches that read these pairs back: per source, its skus in `in` filters of bounded length. Magento
 * splits an `in` value at commas, so a sku or source holding one is asked on its own with `eq`.
 */
function searchesFor(pairs: Pair[]): { source: string; skus: string[]; condition: 'in' | 'eq' }[] {
  const searches: { source: string; skus: string[]; condition: 'in' | 'eq' }[] = [];
  const bySource = new Map<string, string[]>();
  for (const p of pairs) {
    if (p.sku.includes(',') || p.source.includes(',')) {
      searches.push({ source: p.source, skus: [p.sku], condition: 'eq' });
      continue;
    }
    const skus = bySource.get(p.source) ?? [];
    if (skus.length === 0) bySource.set(p.source, skus);
    skus.push(p.sku);
  }
  for (const [source, skus] of bySource) {
    let chunk: string[] = [];
    let chars = 0;
    for (const sku of new Set(skus)) {
      if (
        chunk.length > 0 &&
        (chunk.length >= MAX_SKUS_PER_SEARCH || chars + sku.length > MAX_SKU_CHARS_PER_SEARCH)
      ) {
        searches.push({ source, skus: chunk, condition: 'in' });
        chunk = [];
        chars = 0;
      }
      chunk.push(sku);
      chars += sku.length + 1;
    }
    if (chunk.length > 0) searches.push({ source, skus: chunk, condition: 'in' });
  }
  return searches;
}

function searchQuery(
  search: { source: string; skus: string[]; condition: 'in' | 'eq' },
  fields?: string,
): [string, string][] {
  const criteria = searchCriteria()
    .filter('sku', search.skus, search.condition)
    .filter('source_code', search.source, 'eq')
    // One page holds them all: the store would repeat its last page past the end.
    .pageSize(search.skus.length)
    .currentPage(1);
  const pairs = criteria.toPairs();
  return fields ? [...pairs, ['fields', fields]] : pairs;
}

const PATH = 'V1/inventory/source-items';

export const stockConnector: Connector<SourceItemRow> = {
  ...scanning,
  /** Given source items (for webhooks): one search per source, then only the pairs asked for. */
  async fetchByIds(transport: Transport, ids: string[]): Promise<SourceItemRow[]> {
    const wanted = new Set(ids);
    const rows: SourceItemRow[] = [];
    for (const search of searchesFor(pairsOf(ids))) {
      const result = await transport.get<{ items?: SourceItemRow[] }>(PATH, searchQuery(search));
      rows.push(...(result.items ?? []).filter((row) => wanted.has(sourceItemId(row))));
    }
    return rows;
  },

  /**
   * Deletion scans for stock ask the store which local source items it still has. Its own (source_code,
   * sku) order follows the database's collation (case-insensitive in MySQL), not ours, so a sorted merge
   * of two listings, as for numeric ids, would misread it. Every id left out is tombstoned, so an answer
   * that cannot be trusted (no items list, fewer items than it counts, a row not asked for: a filter the
   * store ignored) throws.
   */
  async presentIds(transport: Transport, ids: string[]): Promise<Set<string>> {
    const wanted = new Set(ids);
    const present = new Set<string>();
    for (const search of searchesFor(pairsOf(ids))) {
      const answer = await transport.get<unknown>(
        PATH,
        searchQuery(search, 'items[sku,source_code],total_count'),
      );
      const { items, total_count: total } = (answer ?? {}) as { items?: unknown; total_count?: unknown };
      const list = items === null && total === 0 ? [] : items;
      if (typeof total !== 'number' || !Array.isArray(list) || list.length < total)
        throw new Error(
          `${scanning.label}: the store's answer to an existence check has no full items list.`,
        );
      for (const item of list) {
        const row = (item ?? {}) as Partial<SourceItemRow>;
        const id =
          typeof row.sku === 'string' && typeof row.source_code === 'string'
            ? sourceItemId({ sku: row.sku, source_code: row.source_code })
            : undefined;
        if (id === undefined || !wanted.has(id))
          throw new Error(
            `${scanning.label}: the store answered an existence check with a source item not asked for; its filters were not applied.`,
          );
        present.add(id);
      }
    }
    return present;
  },
};
