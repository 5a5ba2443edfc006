import { rfc3986 } from '../../oauth1/index.js';
import { productsConnector } from '../magento2/connectors.js';
import { defineImport, filled, type RowCheck, type RowPlan } from './import.js';

/** Sent to the store when the cell is not empty. */
export const PRODUCT_IMPORT_COLUMNS = ['sku', 'name', 'price', 'status', 'visibility', 'weight'] as const;
/** In an export but not sent back: a product's type and timestamp are the store's to set. */
export const PRODUCT_READ_ONLY_COLUMNS = ['type_id', 'updated_at'] as const;

const SKU_MAX_LENGTH = 64;
const NAME_MAX_LENGTH = 255;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

export interface ProductPatch {
  name?: string;
  price?: number;
  status?: 1 | 2;
  visibility?: 1 | 2 | 3 | 4;
  weight?: number;
}

export interface ProductRow {
  sku: string;
  patch: ProductPatch;
}

/** Checks one row; empty cells leave the product's value as it is. */
export function checkProductRow(row: Record<string, string>): RowCheck<ProductRow> {
  const errors: string[] = [];
  const patch: ProductPatch = {};
  const rawSku = row.sku;
  const sku = filled(rawSku) ? rawSku.trim() : undefined;
  if (sku === undefined) errors.push('sku is required');
  else if ([...sku].length > SKU_MAX_LENGTH) errors.push(`sku must be at most ${SKU_MAX_LENGTH} characters`);
  else {
    const problem = skuSegmentProblem(sku);
    if (problem) errors.push(problem);
  }

  const { name, price, status, visibility, weight } = row;
  if (filled(name)) {
    const length = [...name].length;
    if (length > NAME_MAX_LENGTH)
      errors.push(`name must be at most ${NAME_MAX_LENGTH} characters (has ${length})`);
    else patch.name = name;
  }
  if (filled(price)) {
    if (DECIMAL.test(price.trim())) patch.price = Number(price.trim());
    else errors.push('price must be a non-negative number');
  }
  if (filled(weight)) {
    if (DECIMAL.test(weight.trim())) patch.weight = Number(weight.trim());
    else errors.push('weight must be a non-negative number');
  }
  if (filled(status)) {
    const s = status.trim();
    if (s === '1' || s === '2') patch.status = Number(s) as 1 | 2;
    else errors.push('status must be 1 (enabled) or 2 (disabled)');
  }
  if (filled(visibility)) {
    const v = visibility.trim();
    if (/^[1-4]$/.test(v)) patch.visibility = Number(v) as 1 | 2 | 3 | 4;
    else errors.push('visibility must be 1, 2, 3 or 4 (not visible individually, catalog, search, both)');
  }

  const label = sku === undefined ? undefined : `sku ${sku}`;
  if (errors.length > 0 || sku === undefined) return { ok: false, label, errors };
  // Magento matches SKUs case-insensitively, so "abc" and "ABC" are the same product.
  return { ok: true, key: sku.toLowerCase(), label: `sku ${sku}`, row: { sku, patch } };
}

const SEGMENT_BASE = 'http://store.invalid/V1/products/';

/**
 * Why a sku cannot be the last segment of `V1/products/{sku}`, if it cannot. Percent-encoding keeps
 * `/`, `?` and `#` inside the segment, but "." and ".." are dot segments that URL parsing resolves
 * (`V1/products/..` is `V1/`), and an unpaired surrogate has no UTF-8 to encode.
 */
function skuSegmentProblem(sku: string): string | undefined {
  let segment: string;
  try {
    segment = rfc3986(sku);
  } catch {
    return 'sku has a broken character (half of a UTF-16 surrogate pair), which a URL cannot carry';
  }
  if (new URL(segment, SEGMENT_BASE).href === SEGMENT_BASE + segment) return undefined;
  return (
    `sku "${sku}" cannot be sent: in a URL "." and ".." mean this folder and the one above, ` +
    `so V1/products/${sku} would be another address`
  );
}

/** The store's value and the cell's are the same (a store may send numbers as strings). */
function same(stored: unknown, value: string | number): boolean {
  if (typeof value === 'string') return stored === value;
  return (typeof stored === 'number' || typeof stored === 'string') && Number(stored) === value;
}

/** Only the fields that differ from the store's are sent, so a PUT never rewrites what nobody edited. */
export function planProduct(row: ProductRow, local: Record<string, unknown> | undefined): RowPlan {
  const entries = Object.entries(row.patch) as [keyof ProductPatch, string | number][];
  const changed = local ? entries.filter(([field, value]) => !same(local[field], value)) : entries;
  if (changed.length === 0) return { kind: 'unchanged' };
  // The store's spelling: a save with the sku in another case would rename it to that case.
  const sku = typeof local?.sku === 'string' ? local.sku : row.sku;
  return {
    kind: 'send',
    request: {
      method: 'PUT',
      path: `V1/products/${rfc3986(sku)}`,
      // Magento takes the sku from the body as well as the path; sending both keeps them equal.
      body: { product: { sku, ...Object.fromEntries(changed) } },
    },
  };
}

/**
 * PUT V1/products/{sku}, in the default store view's scope. A product never synced is sent as the
 * row says and the store decides (it answers 404 for an unknown sku).
 */
export const productImport = defineImport<ProductRow>({
  entity: 'products',
  columns: PRODUCT_IMPORT_COLUMNS,
  readOnlyColumns: PRODUCT_READ_ONLY_COLUMNS,
  help: `products (PUT V1/products/{sku} per changed row, with the changed fields only)
    ${PRODUCT_IMPORT_COLUMNS.join(', ')}: sku required; an empty cell keeps the store's value.
    ${PRODUCT_READ_ONLY_COLUMNS.join(', ')}: accepted, never sent.`,
  versionColumn: 'updated_at',
  checkRow: checkProductRow,
  keyOf: (record) => (typeof record.data.sku === 'string' ? record.data.sku.toLowerCase() : undefined),
  plan: (row, local) => planProduct(row, local?.data),
  recordAfterSend: (answer) => recordFromAnswer(answer, productsConnector.toRecord),
});

/** The store's answer as the sync would store it, when it is an entity with an id. */
export function recordFromAnswer<Raw>(
  answer: unknown,
  toRecord: (raw: Raw) => { id: string; updatedAt: string; data: Record<string, unknown> },
): { id: string; updatedAt: string; data: Record<string, unknown> } | undefined {
  if (typeof answer !== 'object' || answer === null || !('id' in answer)) return undefined;
  return toRecord(answer as Raw);
}
