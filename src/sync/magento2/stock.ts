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

export const stockConnector: Connector<SourceItemRow> = {
  ...scanning,
  /**
   * Given source items (for webhooks): one search for their skus and sources together, then only the
   * pairs asked for. Magento splits an `in` value at commas, so a sku holding one is read on its own.
   */
  async fetchByIds(transport: Transport, ids: string[]): Promise<SourceItemRow[]> {
    const wanted = new Set(ids);
    const pairs = ids.flatMap((id) => {
      const slash = id.indexOf('/');
      if (slash <= 0) return [];
      return [{ source: decodeURIComponent(id.slice(0, slash)), sku: id.slice(slash + 1) }];
    });
    const search = async (skus: string[], sources: string[], condition: 'in' | 'eq' = 'in') => {
      const result = await transport.get<{ items?: SourceItemRow[] }>('V1/inventory/source-items', [
        ['searchCriteria[filter_groups][0][filters][0][field]', 'sku'],
        ['searchCriteria[filter_groups][0][filters][0][value]', skus.join(',')],
        ['searchCriteria[filter_groups][0][filters][0][condition_type]', condition],
        ['searchCriteria[filter_groups][1][filters][0][field]', 'source_code'],
        ['searchCriteria[filter_groups][1][filters][0][value]', sources.join(',')],
        ['searchCriteria[filter_groups][1][filters][0][condition_type]', condition],
        ['searchCriteria[pageSize]', String(Math.max(1, skus.length * sources.length))],
        ['searchCriteria[currentPage]', '1'],
      ]);
      return (result.items ?? []).filter((row) => wanted.has(sourceItemId(row)));
    };
    const plain = pairs.filter((p) => !p.sku.includes(',') && !p.source.includes(','));
    const rows: SourceItemRow[] = [];
    if (plain.length > 0)
      rows.push(
        ...(await search([...new Set(plain.map((p) => p.sku))], [...new Set(plain.map((p) => p.source))])),
      );
    for (const p of pairs.filter((q) => !plain.includes(q)))
      rows.push(...(await search([p.sku], [p.source], 'eq')));
    return rows;
  },
};
