/**
 * Product updates from a spreadsheet: every row is checked before anything is sent, invalid rows
 * are reported without holding back the valid ones, and each valid row is one call to the store
 * that either succeeds or is listed with the store's reason.
 */

export const IMPORT_ENTITIES = ['products'] as const;
export type ImportEntity = (typeof IMPORT_ENTITIES)[number];

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

export interface ImportFailure {
  /** 1-based, counting data rows only (the header is not a row). */
  row: number;
  sku?: string;
  errors: string[];
}

export interface ImportReport {
  /** Rows read. */
  total: number;
  /** Rows that passed validation. */
  valid: number;
  /** Rows the store accepted (0 in a dry run). */
  applied: number;
  /** Valid rows with nothing to change (only a sku): not sent. */
  skipped: number;
  /** Invalid rows and rows the store refused, in row order. */
  failed: ImportFailure[];
  dryRun: boolean;
}

export interface ImportOptions {
  rows: AsyncIterable<Record<string, string>> | Iterable<Record<string, string>>;
  entity: ImportEntity;
  dryRun: boolean;
  apply: (sku: string, patch: ProductPatch) => Promise<void>;
  /** An error after which no further row is worth sending (e.g. the token was revoked). */
  isFatal?: (error: unknown) => boolean;
  /** Called as rows are sent: done of total valid rows. */
  onProgress?: (done: number, total: number) => void;
}

export type RowCheck =
  { ok: true; sku: string; patch: ProductPatch } | { ok: false; sku?: string; errors: string[] };

const filled = (cell: string | undefined): cell is string => cell !== undefined && cell.trim() !== '';

/** Checks one row; empty cells leave the product's value as it is. */
export function validateProductRow(row: Record<string, string>): RowCheck {
  const errors: string[] = [];
  const patch: ProductPatch = {};
  const known = new Set<string>([...PRODUCT_IMPORT_COLUMNS, ...PRODUCT_READ_ONLY_COLUMNS]);
  for (const column of Object.keys(row)) {
    if (!known.has(column)) {
      errors.push(`unknown column "${column}" (columns: ${[...known].join(', ')})`);
    }
  }

  const rawSku = row.sku;
  const sku = filled(rawSku) ? rawSku.trim() : undefined;
  if (sku === undefined) errors.push('sku is required');
  else if ([...sku].length > SKU_MAX_LENGTH) errors.push(`sku must be at most ${SKU_MAX_LENGTH} characters`);

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

  if (errors.length > 0 || sku === undefined) return { ok: false, sku, errors };
  return { ok: true, sku, patch };
}

/** Validates every row, then (unless a dry run) applies the valid ones one at a time. */
export async function importRows(options: ImportOptions): Promise<ImportReport> {
  if (!(IMPORT_ENTITIES as readonly string[]).includes(options.entity)) {
    throw new Error(`Only ${IMPORT_ENTITIES.join(', ')} can be imported, not ${options.entity}.`);
  }
  const failed: ImportFailure[] = [];
  const ready: { row: number; sku: string; patch: ProductPatch }[] = [];
  // Magento matches SKUs case-insensitively, so "abc" and "ABC" are the same product.
  const firstRowOfSku = new Map<string, number>();
  let total = 0;
  let valid = 0;
  for await (const cells of options.rows) {
    const row = ++total;
    const check = validateProductRow(cells);
    if (!check.ok) {
      failed.push({ row, sku: check.sku, errors: check.errors });
      continue;
    }
    const seen = firstRowOfSku.get(check.sku.toLowerCase());
    if (seen !== undefined) {
      failed.push({ row, sku: check.sku, errors: [`sku ${check.sku} is already in row ${seen}`] });
      continue;
    }
    firstRowOfSku.set(check.sku.toLowerCase(), row);
    valid++;
    ready.push({ row, sku: check.sku, patch: check.patch });
  }

  let applied = 0;
  const toSend = ready.filter((r) => Object.keys(r.patch).length > 0);
  const skipped = ready.length - toSend.length;
  if (!options.dryRun) {
    let stopped: string | undefined;
    let done = 0;
    for (const { row, sku, patch } of toSend) {
      if (stopped !== undefined) {
        failed.push({ row, sku, errors: [`not sent: ${stopped}`] });
        continue;
      }
      try {
        await options.apply(sku, patch);
        applied++;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failed.push({ row, sku, errors: [message] });
        if (options.isFatal?.(error)) stopped = `an earlier row failed with "${message}"`;
      }
      options.onProgress?.(++done, toSend.length);
    }
  }
  failed.sort((a, b) => a.row - b.row);
  return { total, valid, applied, skipped, failed, dryRun: options.dryRun };
}

/** Lines such as `row 7 (sku X): price must be a non-negative number`, one per error. */
export function formatFailure(failure: ImportFailure): string[] {
  const where = failure.sku === undefined ? `row ${failure.row}` : `row ${failure.row} (sku ${failure.sku})`;
  return failure.errors.map((error) => `${where}: ${error}`);
}

/**
 * Rows from a JSON import file (an array of objects). Numbers and booleans become text, null an
 * empty cell, so both file types go through the same checks.
 */
export function rowsFromJson(value: unknown): Record<string, string>[] {
  if (!Array.isArray(value)) throw new Error('A JSON import file must hold an array of objects.');
  return value.map((item: unknown, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new Error(`Element ${i + 1} of the JSON array is not an object.`);
    }
    return Object.fromEntries(
      Object.entries(item).map(([k, v]: [string, unknown]) => [
        k,
        v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v),
      ]),
    );
  });
}
