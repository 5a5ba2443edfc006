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
