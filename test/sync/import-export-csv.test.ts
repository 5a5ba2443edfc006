import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import {
  CsvParser,
  csvObjects,
  formatCsvField,
  formatCsvRow,
  parseCsv,
  readCsvRows,
} from '../../src/sync/import-export/csv.js';

const NASTY = [
  'plain',
  '',
  'with, comma',
  'say "hi"',
  '"',
  '""',
  'line\nbreak',
  'crlf\r\ninside',
  'lone\rcr',
  '  spaces  ',
  'ünïcödé – 日本語 🧪',
  ',',
  '=1+2',
  'trailing\n',
  "'quoted",
  "'=already",
  "'",
  '-5',
  '@SUM(A1)',
];

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('CSV writer', () => {
  it('quotes only fields with a comma, a quote or a line break, doubling quotes', () => {
    expect(formatCsvField('plain')).toBe('plain');
    expect(formatCsvField('a,b')).toBe('"a,b"');
    expect(formatCsvField('say "hi"')).toBe('"say ""hi"""');
    expect(formatCsvField('a\nb')).toBe('"a\nb"');
    expect(formatCsvField('a\rb')).toBe('"a\rb"');
    expect(formatCsvField('')).toBe('');
    expect(formatCsvRow(['a', 'b,c', ''])).toBe('a,"b,c",\r\n');
  });
});

describe('CSV formula neutralising (OWASP CSV injection)', () => {
  it('prefixes a cell a spreadsheet would run as a formula with a single quote', () => {
    expect(formatCsvField('=HYPERLINK("http://evil.example","x")')).toBe(
      '"\'=HYPERLINK(""http://evil.example"",""x"")"',
    );
    expect(formatCsvField('=1+2')).toBe("'=1+2");
    expect(formatCsvField('+1')).toBe("'+1");
    expect(formatCsvField('-1')).toBe("'-1");
    expect(formatCsvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(formatCsvField('\tx')).toBe("'\tx");
    expect(formatCsvField('\rx')).toBe('"\'\rx"');
    // A leading quote is doubled, so reading strips exactly what writing added.
    expect(formatCsvField("'x")).toBe("''x");
    expect(formatCsvField('a=b')).toBe('a=b');
    expect(formatCsvRow(['=1', 'ok'])).toBe("'=1,ok\r\n");
  });

  it('reading strips that one quote back, and leaves other leading quotes alone', () => {
    expect(parseCsv("'=1+2,'-5,''x,'hello,'\r\n")).toEqual([['=1+2', '-5', "'x", "'hello", "'"]]);
  });
});

describe('CSV parser', () => {
  it('round-trips nasty values', () => {
    const rows = [NASTY, [...NASTY].reverse(), ['', '', ''], ['only']];
    const text = rows.map(formatCsvRow).join('');
    expect(parseCsv(text)).toEqual(rows);
  });

  it('round-trips when the text arrives one character at a time', () => {
    const text = formatCsvRow(NASTY) + formatCsvRow(['x', 'y']);
    const parser = new CsvParser();
    const rows: string[][] = [];
    for (const c of text) rows.push(...parser.push(c));
    rows.push(...parser.end());
    expect(rows).toEqual([NASTY, ['x', 'y']]);
  });

  it('reads LF and CRLF endings, a BOM, a missing final line break and a blank line', () => {
    expect(parseCsv('\uFEFFa,b\r\n1,2\n3,4')).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(parseCsv('a\n\nb\n')).toEqual([['a'], [''], ['b']]);
    expect(parseCsv('')).toEqual([]);
  });

  it('keeps a stray quote inside an unquoted field, refuses text after a closing quote and an open quote', () => {
    expect(parseCsv('5" screen,x')).toEqual([['5" screen', 'x']]);
    expect(() => parseCsv('"a"b,c')).toThrow(/Line 1: text after a closing quote/);
    expect(() => parseCsv('a\n"open,x')).toThrow(/Line 2: a quoted field is never closed/);
  });

  it('decodes UTF-8 split across chunks and refuses other encodings', async () => {
    const bytes = Buffer.from('\uFEFFname\r\n日本語 🧪\r\n', 'utf8');
    const chunks = Array.from(bytes, (b) => Buffer.from([b]));
    expect(await collect(readCsvRows(Readable.from(chunks)))).toEqual([['name'], ['日本語 🧪']]);
    const latin1 = Buffer.from('name\nCaf\xe9\n', 'latin1');
    await expect(collect(readCsvRows(Readable.from([latin1])))).rejects.toThrow(/not UTF-8/);
  });

  it('maps rows to the header and refuses rows with another cell count', async () => {
    const rows = parseCsv('sku, price\nA,1\n\nB,2\n');
    expect(await collect(csvObjects(rows))).toEqual([
      { sku: 'A', price: '1' },
      { sku: 'B', price: '2' },
    ]);
    await expect(collect(csvObjects(parseCsv('sku,price\nA,1,2\n')))).rejects.toThrow(
      /Row 1 has 3 cells but the header has 2/,
    );
    await expect(collect(csvObjects(parseCsv('sku,sku\n')))).rejects.toThrow(/column "sku" twice/);
  });
});
