/**
 * RFC 4180 CSV: fields separated by commas, records by CRLF (LF and a lone CR are read too), a
 * field quoted when it holds a comma, a quote or a line break, quotes inside doubled.
 *
 * Formula cells: exported data comes from a store, so a cell may hold `=HYPERLINK(...)` written by
 * anyone who can name a product. As OWASP's CSV-injection guidance says, a cell starting with
 * `= + - @`, tab or CR is written with a single quote in front, which spreadsheets show as text.
 * A cell starting with a quote gets one more, so reading strips exactly one quote in front of those
 * characters and the round trip is lossless. A file written elsewhere with `'=…` imports as `=…`,
 * which is what a spreadsheet shows for it.
 */

import { AppError } from '../../errors.js';

export class CsvError extends AppError {
  override name = 'CsvError';
  declare readonly code: 'CSV_INVALID';
  constructor(message: string, options?: ErrorOptions) {
    super('CSV_INVALID', message, options);
  }
}

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r']/;
const NEUTRALISED = /^'[=+\-@\t\r']/;

/** The cell as a spreadsheet will show it, never run it. */
export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** Undoes neutraliseFormula. */
export function restoreFormula(value: string): string {
  return NEUTRALISED.test(value) ? value.slice(1) : value;
}

export function formatCsvField(raw: string): string {
  const value = neutraliseFormula(raw);
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One record with its CRLF terminator. */
export function formatCsvRow(fields: readonly string[]): string {
  return `${fields.map(formatCsvField).join(',')}\r\n`;
}

/**
 * An incremental parser: feed it text in pieces of any size (a quoted field may span many) and
 * it hands back the records completed so far. A blank line comes back as `['']`.
 */
export class CsvParser {
  private field = '';
  private row: string[] = [];
  private rowStarted = false;
  private inQuotes = false;
  private afterQuote = false;
  private pendingCr = false;
  private atStart = true;
  private line = 1;
  private quoteLine = 1;

  push(text: string): string[][] {
    const rows: string[][] = [];
    if (this.atStart && text.length > 0) {
      this.atStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === '\n') continue;
      }
      if (this.inQuotes) {
        if (c === '"') {
          this.inQuotes = false;
          this.afterQuote = true;
        } else {
          if (c === '\n') this.line++;
          this.field += c;
        }
        continue;
      }
      if (this.afterQuote) {
        this.afterQuote = false;
        if (c === '"') {
          this.field += '"';
          this.inQuotes = true;
          continue;
        }
        if (c !== ',' && c !== '\r' && c !== '\n') {
          throw new CsvError(
            `Line ${this.line}: text after a closing quote. Quote the whole field and double any quote inside it ("" for ").`,
          );
        }
      }
      if (c === ',') {
        this.row.push(this.field);
        this.field = '';
        this.rowStarted = true;
      } else if (c === '\r' || c === '\n') {
        this.row.push(this.field);
        rows.push(this.row.map(restoreFormula));
        this.field = '';
        this.row = [];
        this.rowStarted = false;
        this.line++;
        this.pendingCr = c === '\r';
      } else if (c === '"' && this.field === '') {
        this.inQuotes = true;
        this.rowStarted = true;
        this.quoteLine = this.line;
      } else {
        // A quote inside an unquoted field (`5" screen`) is kept as text, as most readers do.
        this.field += c;
        this.rowStarted = true;
      }
    }
    return rows;
  }

  /** The last record, if the text did not end with a line break. */
  end(): string[][] {
    if (this.inQuotes) {
      throw new CsvError(`Line ${this.quoteLine}: a quoted field is never closed (a missing ").`);
    }
    if (!this.rowStarted && this.row.length === 0) return [];
    const last = [...this.row, this.field].map(restoreFormula);
    this.field = '';
    this.row = [];
    this.rowStarted = false;
    return [last];
  }
}

export function parseCsv(text: string): string[][] {
  const parser = new CsvParser();
  return [...parser.push(text), ...parser.end()];
}

/** Records from UTF-8 bytes (a file stream) or text, one at a time. */
export async function* readCsvRows(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parser = new CsvParser();
  const decode = (chunk: Uint8Array | string, stream: boolean) => {
    if (typeof chunk === 'string') return chunk;
    try {
      return decoder.decode(chunk, { stream });
    } catch (error) {
      throw new CsvError('The file is not UTF-8 text; save it as "CSV UTF-8".', { cause: error });
    }
  };
  for await (const chunk of source) yield* parser.push(decode(chunk, true));
  yield* parser.push(decode(new Uint8Array(), false));
  yield* parser.end();
}

/**
 * Objects keyed by the header row. Blank lines are skipped; a record whose cell count differs
 * from the header's is an error for the whole file, since its cells cannot be matched to columns.
 */
export async function* csvObjects(
  rows: AsyncIterable<string[]> | Iterable<string[]>,
): AsyncGenerator<Record<string, string>> {
  let header: string[] | undefined;
  let n = 0;
  for await (const row of rows) {
    if (row.length === 1 && row[0] === '') continue;
    if (!header) {
      header = checkHeader(row);
      continue;
    }
    n++;
    if (row.length !== header.length) {
      throw new CsvError(
        `Row ${n} has ${row.length} cells but the header has ${header.length}; quote fields that contain commas.`,
      );
    }
    const cells = row;
    yield Object.fromEntries(header.map((name, i) => [name, cells[i] ?? '']));
  }
}

function checkHeader(row: string[]): string[] {
  const names = row.map((name) => name.trim());
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (name === '') throw new CsvError(`The header's column ${i + 1} has no name.`);
    if (seen.has(name)) throw new CsvError(`The header names column "${name}" twice.`);
    seen.add(name);
  });
  return names;
}
