/**
 * The sync layer's parts, named after OroCommerce's integration framework: a transport (how to
 * reach the system) and connectors (one per entity: what to fetch and how to map it), grouped by
 * a channel type. A new channel or entity is one new file.
 */

/** Connectivity to one linked store (Oro: Transport). */
export interface Transport {
  /** The store this transport reaches (consumer key): records are kept under it. */
  readonly storeKey: string;
  /** What it connects with, for display (never secrets). */
  readonly settings: Readonly<Record<string, string>>;
  /** A cheap signed call proving the credentials work. */
  test(): Promise<{ ok: boolean; detail: string }>;
  get<T>(path: string, query: [string, string][]): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
}

export interface SyncPage<Raw> {
  items: Raw[];
  totalCount: number;
}

/** Sync logic for one entity (Oro: Connector). */
export interface Connector<Raw = unknown> {
  readonly entity: string;
  readonly label: string;
  /**
   * The store keeps no `updated_at` for this entity (customer groups, MSI source items), so there is
   * no cursor: every run is a full scan (`since` null, `order` 'id', the connector's unique key),
   * paged and checkpointed like an initial load; the record store's content hash decides which rows
   * are written. Absent: incremental runs by `updated_at`.
   */
  readonly fullScan?: boolean;
  /**
   * One page of rows changed at or after `since` (all rows when null). Ordered by id for an
   * initial load (ids never change, so page numbers are stable) or by `updated_at`, then id, for
   * an incremental run.
   */
  fetchPage(
    transport: Transport,
    request: { since: string | null; page: number; pageSize: number; order: 'id' | 'updated_at' },
  ): Promise<SyncPage<Raw>>;
  /**
   * The rows with these ids (the local record ids), as fetchPage returns them; ids the store no longer
   * has are left out. Lets a webhook apply one changed row without a full run.
   */
  fetchByIds?(transport: Transport, ids: string[]): Promise<Raw[]>;
  /** The local record: id, the store's updated_at ('' without one) and the data kept. */
  toRecord(raw: Raw): { id: string; updatedAt: string; data: Record<string, unknown> };
  /**
   * Optional: the ids the store has after `after` (all when null), ascending in the local id order
   * (`compareRecordIds`), at most `pageSize`, and `totalCount` = how many the store has after `after`.
   * A connector with it takes part in deletion scans (src/sync/deletion-scan.ts); `searchConnector`
   * builds it from the id field and path it already knows.
   */
  fetchIds?(transport: Transport, request: { after: string | null; pageSize: number }): Promise<IdPage>;
  /**
   * Optional, for an entity whose ids the store cannot list in the local order (stock's composite key,
   * sorted by the store's collation): which of these local ids the store still has. Deletion scans then
   * check the local ids batch by batch. Every id left out is tombstoned, so an answer that cannot be
   * trusted must throw.
   */
  presentIds?(transport: Transport, ids: string[]): Promise<Set<string>>;
}

/** One page of a deletion scan: ids only. */
export interface IdPage {
  ids: string[];
  totalCount: number;
}

/**
 * The kind of integration (Oro: channel type): its connectors. The transport is built by whoever
 * holds the store's signed client (for Magento, `magentoTransport`).
 */
export interface ChannelType {
  readonly type: string;
  readonly label: string;
  readonly connectors: readonly Connector[];
}
