import { hash } from 'node:crypto';

/**
 * Synced entities kept locally, keyed by store and entity id. Kept apart from the integrations
 * database because it grows with the catalog: implementations must not hold it all in memory.
 */

export interface LocalRecord {
  /** The store's entity id (as a string: products have numeric ids, but keys stay uniform). */
  id: string;
  /** The store's `updated_at` (Magento format, UTC). */
  updatedAt: string;
  /** sha256 of the mapped data: an unchanged record is not rewritten. */
  hash: string;
  data: Record<string, unknown>;
  /**
   * A tombstone: when a deletion scan found the id gone from the store (ISO time). The data stays as
   * last synced; the next upsert of the id makes the record live again. Absent on live records.
   */
  deletedAt?: string;
}

/** A tombstone brought back by an upsert counts as `updated` (the record was kept all along). */
export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

export interface StreamOptions {
  /** Tombstones too (default: live records only). */
  includeDeleted?: boolean;
}

export interface UpsertOptions {
  /**
   * Leave a stored record whose `updatedAt` is later than the incoming one (reported `unchanged`):
   * a change applied from an event must not undo a newer one applied before it.
   */
  ifNotOlder?: boolean;
}

export interface RecordStore {
  /** Writes a batch; returns what happened to each record, in order. Clears a tombstone. */
  upsert(
    store: string,
    entity: string,
    records: LocalRecord[],
    options?: UpsertOptions,
  ): Promise<UpsertOutcome[]>;
  /** The record, tombstone or not. */
  get(store: string, entity: string, id: string): Promise<LocalRecord | undefined>;
  /** Every record of an entity in id order, a batch at a time (never the whole set at once). */
  stream(store: string, entity: string, options?: StreamOptions): AsyncIterable<LocalRecord>;
  /**
   * The ids of live records greater than `after` (by `compareRecordIds`), in that order, a batch at a
   * time: what a deletion scan walks beside the store's ids without reading the data.
   */
  liveIds(store: string, entity: string, after?: string): AsyncIterable<string>;
  /** Tombstones these ids, at `at` (ISO); ids missing or already deleted are left alone. Returns how many changed. */
  markDeleted(store: string, entity: string, ids: readonly string[], at: string): Promise<number>;
  /** Live records (tombstones are not counted). */
  count(store: string, entity: string): Promise<number>;
  /** Removes every record of a store, tombstones included (an unlinked store); returns how many were live. */
  deleteStore(store: string): Promise<number>;
  close(): Promise<void>;
}

/** Ids up to 15 digits compare as numbers; every adapter orders by the same rule. */
export function numericRecordId(id: string): number | undefined {
  if (!/^\d{1,15}$/.test(id)) return undefined;
  return Number(id);
}

/**
 * The order of `stream` and `liveIds`: numeric ids by value (then as text, for `7` vs `007`), other
 * ids after them by UTF-16 code units (the byte order of PostgreSQL's "C" collation for ASCII).
 */
export function compareRecordIds(a: string, b: string): number {
  const na = numericRecordId(a);
  const nb = numericRecordId(b);
  if (na !== undefined && nb !== undefined && na !== nb) return na - nb;
  if (na !== undefined && nb === undefined) return -1;
  if (na === undefined && nb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sha256 of the data as canonical JSON (keys sorted at every level), so key order never counts as a change. */
export function hashRecordData(data: unknown): string {
  // One-shot hash: a Hash object per record costs more than hashing its few hundred bytes.
  return hash('sha256', canonicalJson(data), 'hex');
}

// Loops and string appends rather than map/filter/join: this runs for every synced record, and the
// output must stay byte for byte the same, or every stored hash would read as a change.
function canonicalJson(value: unknown): string {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (i > 0) out += ',';
      out += isOmitted(v) ? 'null' : canonicalJson(v);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const k of keys) {
    const v = object[k];
    if (isOmitted(v)) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

const isOmitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';
