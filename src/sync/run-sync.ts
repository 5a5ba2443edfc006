import { hashRecordData, type LocalRecord, type RecordStore } from '../storage/records.js';
import type { Connector, Transport } from './types.js';

export interface SyncCounts {
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  /** Local records a deletion scan tombstoned (absent in runs recorded before deletion scans). */
  deleted: number;
}

/**
 * Where a run stands, saved after every page: a run that was killed resumes from here without
 * reading a row twice, and the next incremental run starts from `newest`.
 */
export interface SyncCheckpoint {
  /** 'full': a full scan of a connector without `updated_at` (paged like an initial load). */
  mode: 'initial' | 'incremental' | 'full';
  /** Initial load or full scan: the last page done (pages by id). */
  page: number;
  /** Incremental run: the boundary `updated_at` and the ids already done at exactly that time. */
  since: string | null;
  seenAtSince: string[];
  /** The newest `updated_at` processed in this run. */
  newest: string | null;
  counts: SyncCounts;
  requests: number;
  /**
   * Rows this run is expected to read, from the store's total_count: every row for a load by id;
   * for an incremental run, those read so far plus those the last page's query still matched.
   */
  total?: number;
}

export interface SyncRunOptions {
  transport: Transport;
  connector: Connector;
  records: RecordStore;
  /** null: initial load of everything; otherwise rows changed at or after this `updated_at`. */
  since: string | null;
  pageSize?: number;
  resume?: SyncCheckpoint;
  checkpoint?: (state: SyncCheckpoint) => Promise<void>;
  onPage?: (state: SyncCheckpoint, totalCount: number) => void;
  signal?: AbortSignal;
}

export function freshCheckpoint(since: string | null, fullScan = false): SyncCheckpoint {
  return {
    mode: fullScan ? 'full' : since === null ? 'initial' : 'incremental',
    page: 0,
    since,
    seenAtSince: [],
    newest: since,
    counts: { read: 0, created: 0, updated: 0, unchanged: 0, failed: 0, deleted: 0 },
    requests: 0,
  };
}

/**
 * One entity, one run. An initial load (and a full scan) pages by id; an incremental run pages by `updated_at`
 * as a moving keyset (a row changed during the run moves to the end instead of shifting the
 * others out of a page). Every page is upserted and checkpointed before the next is processed.
 * An initial load asks for the next page while the current one is written, so the store and the
 * database work at the same time; an incremental run cannot, as its next query depends on this page.
 */
export async function runSync(options: SyncRunOptions): Promise<SyncCheckpoint> {
  const pageSize = options.pageSize ?? 200;
  const state: SyncCheckpoint = options.resume
    ? structuredClone(options.resume)
    : freshCheckpoint(options.connector.fullScan ? null : options.since, options.connector.fullScan);
  const { connector, transport } = options;
  // Mapped and hashed as soon as it arrives: a page fetched ahead is ready when the last one is written.
  const fetchPage = async (page: number, initial: boolean) => {
    const { items, totalCount } = await connector.fetchPage(transport, {
      since: initial ? null : state.since,
      page,
      pageSize,
      order: initial ? 'id' : 'updated_at',
    });
    // Past the last page Magento repeats it; total_count says where the data ends.
    const pastEnd = (page - 1) * pageSize >= totalCount;
    const records = (pastEnd ? [] : items).map((raw): LocalRecord => {
      const r = connector.toRecord(raw);
      return { ...r, hash: hashRecordData(r.data) };
    });
    return { size: items.length, totalCount, pastEnd, records };
  };
  let ahead: { page: number; result: ReturnType<typeof fetchPage> } | undefined;
  let extraPage = 1;
  for (let fetches = 1; ; fetches++) {
    options.signal?.throwIfAborted();
    // A full scan pages like an initial load; only an incremental run follows `updated_at`.
    const initial = state.mode !== 'incremental';
    const page = initial ? state.page + 1 : extraPage;
    const pending = ahead?.page === page ? ahead.result : fetchPage(page, initial);
    ahead = undefined;
    const { size, totalCount, pastEnd, records } = await pending;
    state.requests++;
    // A page is asked for at most twice (a boundary re-read), so more means a store that never ends.
    if (fetches > 2 * Math.ceil(totalCount / pageSize) + 20)
      throw new Error(`${connector.label}: paging did not converge.`);
    let done = pastEnd || size < pageSize;
    if (initial && !done) {
      const result = fetchPage(page + 1, true);
      // If this page fails or the run is aborted, that answer is never read: not an unhandled rejection.
      result.catch(() => undefined);
      ahead = { page: page + 1, result };
    }
    const seen = new Set(state.seenAtSince);
    const local = initial ? records : records.filter((r) => !(r.updatedAt === state.since && seen.has(r.id)));
    // An incremental page may be older than a row a webhook wrote since it was read: the newer stays.
    // A load from scratch writes what the store has, so a store restored from a backup is followed.
    const outcomes = local.length
      ? await options.records.upsert(transport.storeKey, connector.entity, local, {
          ifNotOlder: state.mode === 'incremental',
        })
      : [];
    // Before this page's rows are counted: the query matched `seen` rows done already.
    state.total = initial ? totalCount : state.counts.read + Math.max(0, totalCount - seen.size);
    state.counts.read += local.length;
    for (const outcome of outcomes) state.counts[outcome]++;
    for (const r of local)
      if (r.updatedAt !== '' && (state.newest === null || r.updatedAt > state.newest))
        state.newest = r.updatedAt;

    if (initial) {
      state.page = page;
    } else if (local.length > 0 && state.newest !== state.since) {
      state.since = state.newest;
      state.seenAtSince = local.filter((r) => r.updatedAt === state.since).map((r) => r.id);
      extraPage = 1;
    } else {
      state.seenAtSince = [...seen, ...local.map((r) => r.id)];
      // A full page of rows sharing one timestamp, all done: look further.
      if (local.length === 0 && !done) extraPage++;
      else done = done || local.length === 0;
    }
    await options.checkpoint?.(state);
    options.onPage?.(state, totalCount);
    if (done) return state;
  }
}
