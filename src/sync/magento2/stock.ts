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
export const stockConnector = searchConnector<SourceItemRow>({
  entity: 'stock',
  label: 'Stock (source items)',
  path: 'V1/inventory/source-items',
  order: ['source_code', 'sku'],
  recordId: sourceItemId,
  fullScan: true,
});
