import type { Writable } from 'node:stream';
import type { RecordStore } from '../../storage/records.js';
import { formatCsvRow } from './csv.js';

/** CSV columns per entity, read from each record's data (the store's JSON, snake_case). */
export const EXPORT_COLUMNS = {
  products: ['sku', 'name', 'price', 'status', 'visibility', 'type_id', 'weight', 'updated_at'],
  customers: ['id', 'email', 'firstname', 'lastname', 'group_id', 'website_id', 'store_id', 'updated_at'],
  orders: ['entity_id', 'increment_id', 'status', 'state', 'customer_email', 'grand_total', 'updated_at'],
  customer_groups: ['id', 'code', 'tax_class_id', 'tax_class_name'],
  shipments: ['entity_id', 'increment_id', 'order_id', 'customer_id', 'total_qty', 'updated_at'],
  categories: ['id', 'parent_id', 'name', 'is_active', 'level', 'position', 'path', 'updated_at'],
  stock: ['sku', 'source_code', 'quantity', 'status'],
} as const satisfies Record<string, readonly string[]>;

export type ExportEntity = keyof typeof EXPORT_COLUMNS;
export type ExportFormat = 'csv' | 'json';
export const EXPORT_ENTITIES = Object.keys(EXPORT_COLUMNS) as ExportEntity[];

export function isExportEntity(value: string): value is ExportEntity {
  return Object.hasOwn(EXPORT_COLUMNS, value);
}

export interface ExportOptions {
  records: RecordStore;
  /** The record-store key of the linked store (its consumer key). */
  store: string;
  entity: ExportEntity;
  format: ExportFormat;
  /** Written to, never ended: the caller owns it (it may be stdout). */
  out: Writable;
  onProgress?: (done: number, total: number) => void;
}

/** Buffered output up to this size: one write per row would cost more than the rows. */
const FLUSH_AT = 64 * 1024;

/** Streams one entity's records to `out`, one record in memory at a time, honouring backpressure. */
export async function exportRecords(options: ExportOptions): Promise<{ rows: number }> {
  const { records, store, entity, format, out, onProgress } = options;
  const total = await records.count(store, entity);
  const columns = EXPORT_COLUMNS[entity];
  let buffer = format === 'csv' ? formatCsvRow(columns) : '[';
  let rows = 0;
  for await (const record of records.stream(store, entity)) {
    buffer +=
      format === 'csv'
        ? formatCsvRow(columns.map((c) => cellText(record.data[c])))
        : `${rows === 0 ? '\n' : ',\n'}${JSON.stringify(record.data)}`;
    rows++;
    if (buffer.length >= FLUSH_AT) {
      await write(out, buffer);
      buffer = '';
    }
    onProgress?.(rows, Math.max(total, rows));
  }
  buffer += format === 'json' ? (rows === 0 ? ']\n' : '\n]\n') : '';
  await write(out, buffer);
  return { rows };
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Resolves once `out` has taken the chunk (or wants more); rejects if it fails or closes first. */
function write(out: Writable, chunk: string): Promise<void> {
  if (chunk === '') return Promise.resolve();
  if (out.destroyed || out.writableEnded) {
    return Promise.reject(new Error('The output was closed before the export finished.'));
  }
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('The output was closed before the export finished.'));
    };
    out.on('error', onError);
    out.on('close', onClose);
    if (out.write(chunk)) onDrain();
    else out.on('drain', onDrain);
  });
}
