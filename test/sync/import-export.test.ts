import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createFileRecordStore, hashRecordData } from '../../src/storage/file-record-store.js';
import type { RecordStore } from '../../src/storage/records.js';
import { parseCsv } from '../../src/sync/import-export/csv.js';
import { EXPORT_COLUMNS, exportRecords } from '../../src/sync/import-export/export.js';
import {
  formatFailure,
  importRows,
  rowsFromJson,
  type ProductPatch,
} from '../../src/sync/import-export/import.js';

const STORE = 'abcdefghijklmnopqrstuvwxyz012345';
let dir: string;
let records: RecordStore;

const products = [
  { id: 1, sku: 'P-1', name: 'Plain', price: 10, status: 1, visibility: 4, type_id: 'simple', weight: 1.5 },
  {
    id: 2,
    sku: 'P-2',
    name: 'Comma, "quoted"\nand a line break',
    price: 0,
    status: 2,
    visibility: 1,
    type_id: 'virtual',
  },
  {
    id: 1000,
    sku: 'P-1000',
    name: 'Ünïcödé 日本語 🧪',
    price: 99.99,
    status: 1,
    visibility: 2,
    type_id: 'simple',
    weight: 0,
  },
].map((p) => ({
  ...p,
  updated_at: '2026-01-02 03:04:05',
  custom_attributes: [{ attribute_code: 'x', value: 'y' }],
}));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'import-export-'));
  records = createFileRecordStore(dir);
  await records.upsert(
    STORE,
    'products',
    products.map((p) => ({ id: String(p.id), updatedAt: p.updated_at, hash: hashRecordData(p), data: p })),
  );
});
afterAll(async () => {
  await records.close();
  await rm(dir, { recursive: true, force: true });
});

/** A sink that takes one small chunk at a time, so the export has to wait for 'drain'. */
function slowSink(): { out: Writable; text: () => string; writes: () => number } {
  const chunks: string[] = [];
  const out = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      setImmediate(done);
    },
  });
  return { out, text: () => chunks.join(''), writes: () => chunks.length };
}

describe('exportRecords', () => {
  it('writes a JSON array of the records’ data in id order', async () => {
    const sink = slowSink();
    const progress: [number, number][] = [];
    const result = await exportRecords({
      records,
      store: STORE,
      entity: 'products',
      format: 'json',
      out: sink.out,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(result).toEqual({ rows: 3 });
    expect(JSON.parse(sink.text())).toEqual(products);
    expect(progress).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it('writes CSV with the fixed header and RFC 4180 quoting', async () => {
    const sink = slowSink();
    await exportRecords({ records, store: STORE, entity: 'products', format: 'csv', out: sink.out });
    const text = sink.text();
    expect(text.startsWith('sku,name,price,status,visibility,type_id,weight,updated_at\r\n')).toBe(true);
    expect(text).toContain(
      'P-2,"Comma, ""quoted""\nand a line break",0,2,1,virtual,,2026-01-02 03:04:05\r\n',
    );
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...EXPORT_COLUMNS.products]);
    expect(rows.slice(1).map((r) => r[1])).toEqual(products.map((p) => p.name));
    expect(rows.slice(1).map((r) => r[6])).toEqual(['1.5', '', '0']);
  });

  it('writes an empty array, or only the header, when nothing was synced', async () => {
    const json = slowSink();
    expect(
      await exportRecords({ records, store: STORE, entity: 'orders', format: 'json', out: json.out }),
    ).toEqual({
      rows: 0,
    });
    expect(JSON.parse(json.text())).toEqual([]);
    const csv = slowSink();
    await exportRecords({ records, store: STORE, entity: 'customers', format: 'csv', out: csv.out });
    expect(csv.text()).toBe('id,email,firstname,lastname,group_id,updated_at\r\n');
  });

  it('rejects when the output fails', async () => {
    const out = new Writable({
      write(_chunk, _encoding, done) {
        done(new Error('disk full'));
      },
    });
    await expect(
      exportRecords({ records, store: STORE, entity: 'products', format: 'csv', out }),
    ).rejects.toThrow('disk full');
  });
});

describe('importRows', () => {
  const rows = [
    { sku: 'A', name: 'New name', price: '12.50', status: '', visibility: '' },
    { sku: '', name: 'no sku', price: '1', status: '', visibility: '' },
    { sku: 'B', name: '', price: '-1', status: '3', visibility: '0' },
    { sku: 'C', name: 'x'.repeat(256), price: 'abc', status: '1', visibility: '4' },
    { sku: 'D', name: '', price: '', status: '2', visibility: '' },
    { sku: 'E', name: '', price: '', status: '', visibility: '' },
    { sku: 'a', name: '', price: '3', status: '', visibility: '' },
  ];

  it('reports exactly the invalid rows and applies only the valid ones, in order', async () => {
    const applied: [string, ProductPatch][] = [];
    const report = await importRows({
      rows,
      entity: 'products',
      dryRun: false,
      apply: async (sku, patch) => {
        applied.push([sku, patch]);
      },
    });
    expect(applied).toEqual([
      ['A', { name: 'New name', price: 12.5 }],
      ['D', { status: 2 }],
    ]);
    expect(report).toEqual({
      total: 7,
      valid: 3,
      applied: 2,
      skipped: 1,
      dryRun: false,
      failed: [
        { row: 2, errors: ['sku is required'] },
        {
          row: 3,
          sku: 'B',
          errors: [
            'price must be a non-negative number',
            'status must be 1 (enabled) or 2 (disabled)',
            'visibility must be 1, 2, 3 or 4 (not visible individually, catalog, search, both)',
          ],
        },
        {
          row: 4,
          sku: 'C',
          errors: ['name must be at most 255 characters (has 256)', 'price must be a non-negative number'],
        },
        { row: 7, sku: 'a', errors: ['sku a is already in row 1'] },
      ],
    });
    expect(report.failed.flatMap(formatFailure)).toContain(
      'row 3 (sku B): price must be a non-negative number',
    );
  });

  it('reports unknown columns, accepts the read-only export columns and trims cells', async () => {
    const applied: [string, ProductPatch][] = [];
    const report = await importRows({
      rows: [
        { sku: ' X ', colour: 'red', price: ' 5 ' },
        { sku: 'Y', type_id: 'simple', updated_at: '2026-01-01 00:00:00', weight: '2', visibility: '3' },
      ],
      entity: 'products',
      dryRun: false,
      apply: async (sku, patch) => {
        applied.push([sku, patch]);
      },
    });
    expect(report.failed).toEqual([
      {
        row: 1,
        sku: 'X',
        errors: [expect.stringMatching(/^unknown column "colour" \(columns: sku, name, /)],
      },
    ]);
    expect(applied).toEqual([['Y', { weight: 2, visibility: 3 }]]);
  });

  it('calls nothing in a dry run', async () => {
    let calls = 0;
    const report = await importRows({
      rows,
      entity: 'products',
      dryRun: true,
      apply: async () => {
        calls++;
      },
    });
    expect(calls).toBe(0);
    expect(report).toMatchObject({ total: 7, valid: 3, applied: 0, dryRun: true });
    expect(report.failed.map((f) => f.row)).toEqual([2, 3, 4, 7]);
  });

  it('lists a row the store refuses and still applies the others', async () => {
    const applied: string[] = [];
    const progress: number[] = [];
    async function* source() {
      for (const sku of ['S1', 'S2', 'S3']) yield { sku, price: '1' };
    }
    const report = await importRows({
      rows: source(),
      entity: 'products',
      dryRun: false,
      apply: async (sku) => {
        if (sku === 'S2') throw new Error("The product that was requested doesn't exist.");
        applied.push(sku);
      },
      onProgress: (done) => progress.push(done),
    });
    expect(applied).toEqual(['S1', 'S3']);
    expect(progress).toEqual([1, 2, 3]);
    expect(report).toMatchObject({ total: 3, valid: 3, applied: 2 });
    expect(report.failed).toEqual([
      { row: 2, sku: 'S2', errors: ["The product that was requested doesn't exist."] },
    ]);
  });

  it('stops sending after a fatal error and lists the rows not sent', async () => {
    const report = await importRows({
      rows: [
        { sku: 'S1', price: '1' },
        { sku: 'S2', price: '1' },
        { sku: 'S3', price: '1' },
      ],
      entity: 'products',
      dryRun: false,
      apply: async (sku) => {
        if (sku === 'S2') throw new Error('token revoked');
      },
      isFatal: () => true,
    });
    expect(report.applied).toBe(1);
    expect(report.failed).toEqual([
      { row: 2, sku: 'S2', errors: ['token revoked'] },
      { row: 3, sku: 'S3', errors: ['not sent: an earlier row failed with "token revoked"'] },
    ]);
  });

  it('refuses other entities', async () => {
    await expect(
      importRows({ rows: [], entity: 'orders' as 'products', dryRun: true, apply: async () => undefined }),
    ).rejects.toThrow(/Only products can be imported/);
  });

  it('reads JSON rows, turning numbers into cells', () => {
    expect(rowsFromJson([{ sku: 'A', price: 12.5, status: 1, name: null }])).toEqual([
      { sku: 'A', price: '12.5', status: '1', name: '' },
    ]);
    expect(() => rowsFromJson({ sku: 'A' })).toThrow(/array of objects/);
    expect(() => rowsFromJson([1])).toThrow(/Element 1/);
  });
});
