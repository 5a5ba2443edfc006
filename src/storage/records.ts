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
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

export interface UpsertOptions {
  /**
   * Leave a stored record whose `updatedAt` is later than the incoming one (reported `unchanged`):
   * a change applied from an event must not undo a newer one applied before it.
   */
  ifNotOlder?: boolean;
}

export interface RecordStore {
  /** Writes a batch; returns what happened to each record, in order. */
  upsert(
    store: string,
    entity: string,
    records: LocalRecord[],
    options?: UpsertOptions,
  ): Promise<UpsertOutcome[]>;
  get(store: string, entity: string, id: string): Promise<LocalRecord | undefined>;
  /** Every record of an entity in id order, a batch at a time (never the whole set at once). */
  stream(store: string, entity: string): AsyncIterable<LocalRecord>;
  count(store: string, entity: string): Promise<number>;
  close(): Promise<void>;
}
