import { hashRecordData, type LocalRecord, type RecordStore } from '../../storage/records.js';

/**
 * Pushing a spreadsheet's edits to the store. Every row is checked, and compared with the local
 * record (what the store last sent us), before anything is sent; only rows whose values differ are
 * sent, one request each, and the store's answer becomes the local record, so the same file imported
 * twice sends nothing the second time. Invalid rows are reported without holding back the valid ones
 * (unless `strict`); each sent row either succeeds or is listed with the store's reason.
 *
 * What differs per entity (columns, checks, how a row becomes a request) is an ImportDefinition:
 * see product-import.ts and customer-import.ts.
 */

export interface ImportRequest {
  /** GET only for a definition's refresh read; a row is sent as a PUT or POST. */
  method: 'GET' | 'PUT' | 'POST';
  /** Relative to the REST base (`V1/...`), path segments already percent-encoded. */
  path: string;
  /** undefined for a GET. */
  body: unknown;
}

export type RowCheck<Row> =
  | {
      ok: true;
      /** Identifies the store's record: two rows with one key are refused; matched with keyOf. */
      key: string;
      /** How messages name the row: `sku ABC`, `customer 12`. */
      label: string;
      row: Row;
    }
  | { ok: false; label?: string; errors: string[] };

export type RowPlan =
  { kind: 'unchanged' } | { kind: 'send'; request: ImportRequest } | { kind: 'invalid'; errors: string[] };

/** One importable entity. A new one is a file with one of these, added to import-entities.ts. */
export interface ImportDefinition<Row> {
  /** The CLI's --entity value and the record-store entity the local records live under. */
  entity: string;
  /** Columns that can carry a change. */
  columns: readonly string[];
  /** Accepted, so an export imports back unchanged, but never sent. */
  readOnlyColumns: readonly string[];
  /**
   * The column holding the store's `updated_at` as exported: a row exported before the store's
   * record last changed is not sent (its unedited cells would undo that change).
   */
  versionColumn?: string;
  /** A few lines for --help: which columns are required and what an empty cell means. */
  help: string;
  /** Checks one row on its own (no store data needed). */
  checkRow(cells: Record<string, string>): RowCheck<Row>;
  /** A local record's key, as checkRow makes keys. */
  keyOf(record: LocalRecord): string | undefined;
  /** When a row key is the record id, the record is read directly instead of scanning them all. */
  recordId?: (key: string) => string;
  /** What to do with a valid row, given what the store last had (undefined: never synced). */
  plan(row: Row, local: LocalRecord | undefined): RowPlan;
  /**
   * For a request that carries more than the row (a PUT replacing the whole record): the store's
   * record is read just before the row is sent, and the row planned again against it, so what
   * changed in the store since the last sync is kept. A row whose versionColumn is older than that
   * record is refused as stale. A dry run reads nothing.
   */
  refresh?: {
    /** The GET that reads the row's record. */
    request(row: Row): ImportRequest;
    /** The store's answer as a local record (undefined: not the record). */
    toRecord(answer: unknown): Omit<LocalRecord, 'hash'> | undefined;
  };
  /** The local record after the store accepted the request (its answer, when it is the entity). */
  recordAfterSend(
    answer: unknown,
    sent: { row: Row; request: ImportRequest; local: LocalRecord | undefined },
  ): Omit<LocalRecord, 'hash'> | undefined;
}

/**
 * The engine only hands each row back to the definition that made it, so a definition's row type
 * can stay its own; this erases it once, for the registry.
 */
export type AnyImportDefinition = ImportDefinition<unknown>;
export const defineImport = <Row>(definition: ImportDefinition<Row>): AnyImportDefinition =>
  definition as unknown as AnyImportDefinition;

export interface ImportProblem {
  /** 1-based, counting data rows only (the header is not a row). */
  row: number;
  label?: string;
  /**
   * invalid: found before sending (a stale row, by the refresh read just before); failed: the store
   * refused it; not-sent: held back.
   */
  kind: 'invalid' | 'failed' | 'not-sent';
  errors: string[];
}

export interface ImportReport {
  entity: string;
  dryRun: boolean;
  strict: boolean;
  /** Rows read. */
  total: number;
  /** Valid rows whose values differ from the store's: sent, or to be sent in a dry run. */
  changed: number;
  /** Rows the store accepted (0 in a dry run). */
  sent: number;
  /** Valid rows with nothing that differs from the store's record: not sent. */
  unchanged: number;
  invalid: number;
  /** Rows the store refused, plus rows not sent after a fatal error. */
  failed: number;
  /** Changed rows held back because `strict` and some row was invalid. */
  held: number;
  /** Invalid, refused and unsent rows, in row order. */
  problems: ImportProblem[];
  /** Something that went wrong after the store accepted rows (the local write-back). */
  warnings: string[];
}

export interface ImportOptions {
  rows: AsyncIterable<Record<string, string>> | Iterable<Record<string, string>>;
  definition: AnyImportDefinition;
  records: RecordStore;
  /** The record-store key of the linked store (its consumer key). */
  store: string;
  dryRun: boolean;
  /**
   * Send nothing when any row is invalid; a row found stale by a refresh read, while sending, stops
   * the rows after it.
   */
  strict?: boolean;
  /** Sends one request (a GET when the definition reads before sending); resolves with the store's answer. */
  send: (request: ImportRequest) => Promise<unknown>;
  /** An error after which no further row is worth sending (e.g. the token was revoked). */
  isFatal?: (error: unknown) => boolean;
  /** The lines to report for a refused row (default: the error's message). */
  describeError?: (error: unknown) => string[];
  /** Called as rows are sent: done of total to send. */
  onProgress?: (done: number, total: number) => void;
}

interface Ready {
  row: number;
  key: string;
  label: string;
  value: unknown;
  /** The row's versionColumn cell, when filled. */
  version?: string;
  local?: LocalRecord;
}

/** Magento's timestamps, which sort as text; a spreadsheet that reformats them breaks that. */
const MAGENTO_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Accepted records are written back in batches: one shard write per row would cost more than the PUT. */
const WRITE_BACK_BATCH = 100;

/** Checks every row, compares the valid ones with the local records, then sends those that differ. */
export async function importRows(options: ImportOptions): Promise<ImportReport> {
  const { definition, records, store } = options;
  const strict = options.strict === true;
  const problems: ImportProblem[] = [];
  const { ready, total } = await checkRows(options.rows, definition, problems);
  await attachLocalRecords(ready, definition, records, store);

  const toSend: { item: Ready; request: ImportRequest }[] = [];
  let unchanged = 0;
  for (const item of ready) {
    const plan = definition.plan(item.value, item.local);
    const { row, label, version, local } = item;
    if (plan.kind === 'unchanged') unchanged++;
    else if (plan.kind === 'invalid') problems.push({ row, label, kind: 'invalid', errors: plan.errors });
    else if (version !== undefined && local !== undefined && local.updatedAt > version) {
      problems.push({
        row,
        label,
        kind: 'invalid',
        errors: [staleRow(definition, version, local.updatedAt)],
      });
    } else toSend.push({ item, request: plan.request });
  }
  const invalid = problems.length;
  const report: ImportReport = {
    entity: definition.entity,
    dryRun: options.dryRun,
    strict,
    total,
    changed: toSend.length,
    sent: 0,
    unchanged,
    invalid,
    failed: 0,
    held: 0,
    problems,
    warnings: [],
  };

  if (strict && invalid > 0) report.held = options.dryRun ? 0 : toSend.length;
  else if (!options.dryRun) await sendAll(toSend, options, report);
  problems.sort((a, b) => a.row - b.row);
  return report;
}

async function checkRows(
  rows: ImportOptions['rows'],
  definition: AnyImportDefinition,
  problems: ImportProblem[],
): Promise<{ ready: Ready[]; total: number }> {
  const ready: Ready[] = [];
  const firstRowOfKey = new Map<string, number>();
  const known = new Set([...definition.columns, ...definition.readOnlyColumns]);
  let total = 0;
  for await (const cells of rows) {
    const row = ++total;
    const problemsOfRow = Object.keys(cells)
      .filter((column) => !known.has(column))
      .map((column) => `unknown column "${column}" (columns: ${[...known].join(', ')})`);
    const check = definition.checkRow(cells);
    const versionCell =
      definition.versionColumn === undefined ? '' : (cells[definition.versionColumn] ?? '').trim();
    if (versionCell !== '' && !MAGENTO_TIME.test(versionCell)) {
      problemsOfRow.push(`${definition.versionColumn} must be as exported (YYYY-MM-DD HH:MM:SS), or empty`);
    }
    if (!check.ok || problemsOfRow.length > 0) {
      const errors = [...problemsOfRow, ...(check.ok ? [] : check.errors)];
      problems.push({ row, label: check.label, kind: 'invalid', errors });
      continue;
    }
    const seen = firstRowOfKey.get(check.key);
    if (seen !== undefined) {
      problems.push({
        row,
        label: check.label,
        kind: 'invalid',
        errors: [`${check.label} is already in row ${seen}`],
      });
      continue;
    }
    firstRowOfKey.set(check.key, row);
    ready.push({
      row,
      key: check.key,
      label: check.label,
      value: check.row,
      ...(versionCell === '' ? {} : { version: versionCell }),
    });
  }
  return { ready, total };
}

/** One read per row when keys are ids; otherwise one pass over the entity's records, a shard at a time. */
async function attachLocalRecords(
  ready: Ready[],
  definition: AnyImportDefinition,
  records: RecordStore,
  store: string,
): Promise<void> {
  if (ready.length === 0) return;
  const { recordId } = definition;
  if (recordId) {
    for (const item of ready) item.local = await records.get(store, definition.entity, recordId(item.key));
    return;
  }
  const byKey = new Map(ready.map((item) => [item.key, item]));
  let left = byKey.size;
  for await (const record of records.stream(store, definition.entity)) {
    const key = definition.keyOf(record);
    const item = key === undefined ? undefined : byKey.get(key);
    if (item && !item.local) {
      item.local = record;
      if (--left === 0) break;
    }
  }
}

async function sendAll(
  toSend: { item: Ready; request: ImportRequest }[],
  options: ImportOptions,
  report: ImportReport,
): Promise<void> {
  const { definition } = options;
  const describe = options.describeError ?? ((error: unknown) => [errorText(error)]);
  const pending: LocalRecord[] = [];
  const writeBack = async () => {
    if (pending.length === 0) return;
    const batch = pending.splice(0);
    try {
      await options.records.upsert(options.store, definition.entity, batch);
    } catch (error) {
      report.warnings.push(
        `${batch.length} accepted row(s) were not written to the local records (${errorText(error)}); ` +
          'the next sync brings them in.',
      );
    }
  };

  let stopped: string | undefined;
  let done = 0;
  for (const { item, request: planned } of toSend) {
    if (stopped !== undefined) {
      report.problems.push({ row: item.row, label: item.label, kind: 'not-sent', errors: [stopped] });
      report.failed++;
      continue;
    }
    try {
      let request = planned;
      let local = item.local;
      if (definition.refresh) {
        const current = await readCurrent(definition, item, options.send);
        const plan: RowPlan =
          item.version !== undefined && current.updatedAt > item.version
            ? { kind: 'invalid', errors: [staleRow(definition, item.version, current.updatedAt)] }
            : definition.plan(item.value, current);
        if (plan.kind !== 'send') {
          // Counted as if found before sending.
          report.changed--;
          if (plan.kind === 'unchanged') report.unchanged++;
          else {
            report.invalid++;
            report.problems.push({ row: item.row, label: item.label, kind: 'invalid', errors: plan.errors });
            if (options.strict) stopped = `not sent: --strict and row ${item.row} is invalid`;
          }
          options.onProgress?.(++done, toSend.length);
          continue;
        }
        request = plan.request;
        local = current;
      }
      const answer = await options.send(request);
      report.sent++;
      const record = definition.recordAfterSend(answer, { row: item.value, request, local });
      if (record) pending.push({ ...record, hash: hashRecordData(record.data) });
      if (pending.length >= WRITE_BACK_BATCH) await writeBack();
    } catch (error) {
      report.failed++;
      report.problems.push({ row: item.row, label: item.label, kind: 'failed', errors: describe(error) });
      if (options.isFatal?.(error)) stopped = `not sent: an earlier row failed with "${errorText(error)}"`;
    }
    options.onProgress?.(++done, toSend.length);
  }
  await writeBack();
}

/** The store's record of a row, as the definition's refresh reads it. */
async function readCurrent(
  definition: AnyImportDefinition,
  item: Ready,
  send: ImportOptions['send'],
): Promise<LocalRecord> {
  const refresh = definition.refresh as NonNullable<AnyImportDefinition['refresh']>;
  const request = refresh.request(item.value);
  const record = refresh.toRecord(await send(request));
  if (!record) throw new Error(`${request.method} ${request.path} did not answer with the record`);
  return { ...record, hash: hashRecordData(record.data) };
}

function staleRow(definition: AnyImportDefinition, version: string, now: string): string {
  const column = definition.versionColumn as string;
  return (
    `changed in the store since this row was exported (${column} ${version} in the file, ${now} now), so ` +
    `its other cells may undo that change: export again and redo the edit, or empty ${column} to send the row as it is`
  );
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Lines such as `row 7 (sku X): price must be a non-negative number`, one per error. */
export function formatProblem(problem: ImportProblem): string[] {
  const where = problem.label === undefined ? `row ${problem.row}` : `row ${problem.row} (${problem.label})`;
  return problem.errors.map((error) => `${where}: ${error}`);
}

/** The closing line: what was sent, unchanged, invalid and failed. */
export function summarise(report: ImportReport, origin: string): string {
  const { entity, total, changed, sent, unchanged, invalid, failed, held } = report;
  const rows = `${total} row${total === 1 ? '' : 's'}`;
  if (report.dryRun) {
    return `Dry run of ${entity}, nothing sent to ${origin}: ${rows}: ${changed} to send, ${unchanged} unchanged, ${invalid} invalid.`;
  }
  const line = `Import of ${entity} into ${origin}: ${rows}: ${sent} sent, ${unchanged} unchanged, ${invalid} invalid, ${failed} failed`;
  return held > 0
    ? `${line}; ${held} changed not sent (--strict and a row is invalid: fix it and import again).`
    : `${line}.`;
}

/** Shared by the definitions: a cell that carries a value (blank and spaces do not). */
export const filled = (cell: string | undefined): cell is string => cell !== undefined && cell.trim() !== '';

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
