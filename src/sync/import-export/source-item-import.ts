import { sourceItemId, stockConnector, type SourceItemRow } from '../magento2/stock.js';
import { defineImport, filled, type RowCheck, type RowPlan } from './import.js';

/** Every column is needed: MSI's save replaces the source item's quantity and status together. */
export const SOURCE_ITEM_IMPORT_COLUMNS = ['sku', 'source_code', 'quantity', 'status'] as const;

/** catalog_product_entity.sku is varchar(64); inventory_source.source_code is varchar(255). */
const SKU_MAX_LENGTH = 64;
const SOURCE_CODE_MAX_LENGTH = 255;
/** MSI refuses whitespace in a source code. */
const SOURCE_CODE = /^\S+$/u;
const NUMBER = /^-?\d+(\.\d+)?$/;

export function checkSourceItemRow(row: Record<string, string>): RowCheck<SourceItemRow> {
  const errors: string[] = [];
  const sku = row.sku?.trim() ?? '';
  const source = row.source_code?.trim() ?? '';
  const label = sku === '' ? undefined : `sku ${sku} at ${source || '?'}`;
  if (sku === '') errors.push('sku is required');
  else if ([...sku].length > SKU_MAX_LENGTH) errors.push(`sku must be at most ${SKU_MAX_LENGTH} characters`);
  if (source === '') errors.push('source_code is required (e.g. default)');
  else if (!SOURCE_CODE.test(source) || [...source].length > SOURCE_CODE_MAX_LENGTH)
    errors.push(`source_code must be up to ${SOURCE_CODE_MAX_LENGTH} characters without spaces`);
  const quantityCell = row.quantity?.trim() ?? '';
  if (!filled(quantityCell) || !NUMBER.test(quantityCell))
    errors.push('quantity must be a number, e.g. 12 or 7.5');
  const statusCell = row.status?.trim() ?? '';
  if (statusCell !== '0' && statusCell !== '1')
    errors.push('status must be 1 (in stock) or 0 (out of stock)');
  if (errors.length > 0) return { ok: false, label, errors };
  const item: SourceItemRow = {
    sku,
    source_code: source,
    quantity: Number(quantityCell),
    status: Number(statusCell),
  };
  return { ok: true, key: sourceItemId(item), label: `sku ${sku} at ${source}`, row: item };
}

/**
 * One `POST V1/inventory/source-items` per changed row. A source item never synced is sent too: the
 * save inserts or updates by (source_code, sku), and the store refuses an unknown sku or source.
 */
export function planSourceItem(row: SourceItemRow, local: Record<string, unknown> | undefined): RowPlan {
  if (local && local.quantity === row.quantity && local.status === row.status) return { kind: 'unchanged' };
  return {
    kind: 'send',
    request: {
      method: 'POST',
      path: 'V1/inventory/source-items',
      body: { sourceItems: [{ ...row }] },
    },
  };
}

/**
 * MSI answers the save with nothing: the record is the synced one with the row applied, in the shape
 * a sync stores. A row that matched no synced record (a new pair, or a sku spelled in another case)
 * is left to the next scan, which stores it as the store spells it.
 */
export function sourceItemAfterSend(row: SourceItemRow, local: Record<string, unknown> | undefined) {
  if (!local) return undefined;
  return stockConnector.toRecord({ ...local, quantity: row.quantity, status: row.status } as SourceItemRow);
}

export const sourceItemImport = defineImport<SourceItemRow>({
  entity: 'stock',
  columns: SOURCE_ITEM_IMPORT_COLUMNS,
  readOnlyColumns: [],
  help: `stock (MSI source items; POST V1/inventory/source-items per changed row; needs
    Magento_InventoryApi::stock_source_item_assign)
    ${SOURCE_ITEM_IMPORT_COLUMNS.join(', ')}: all required; status 1 in stock, 0 out of stock.
    Source items have no updated_at: a row is compared with the last sync by value only.`,
  checkRow: checkSourceItemRow,
  keyOf: (record) => record.id,
  recordId: (key) => key,
  plan: (row, local) => planSourceItem(row, local?.data),
  recordAfterSend: (_answer, { row, local }) => sourceItemAfterSend(row, local?.data),
});
