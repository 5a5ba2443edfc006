import { AppError } from '../errors.js';
import { compareRecordIds, type RecordStore } from '../storage/records.js';
import type { Connector, Transport } from './types.js';

/**
 * Deletions are invisible to an `updated_at` cursor: a deleted row simply stops coming. The scan
 * lists every id the store has, in id order, and walks the local live ids beside it (a sorted
 * merge): a local id the store's list passes over is gone, and becomes a tombstone. Neither side is
 * held whole: one page of store ids, the local ids read ahead of it (a batch from storage) and up to
 * `batchSize` tombstones waiting to be written.
 */

/** Where a scan stands, saved after every page: a scan that was stopped goes on after `after`. */
export interface DeletionScanState {
  /** The last store id compared (null: from the start). */
  after: string | null;
  /** Ids the store listed so far. */
  listed: number;
  /** Local records this scan tombstoned. */
  deleted: number;
  /** Ids the store has that are not live here (not synced yet, or a tombstone): the sync's business. */
  notLocal: number;
  requests: number;
  done: boolean;
}

export interface DeletionScanOptions {
  transport: Transport;
  connector: Connector;
  records: RecordStore;
  /** Store ids per request (default 200). */
  pageSize?: number;
  /** Tombstones written per storage call (default 500). */
  batchSize?: number;
  resume?: DeletionScanState;
  checkpoint?: (state: DeletionScanState) => Promise<void>;
  signal?: AbortSignal;
  /** The tombstones' time (default now). */
  now?: () => Date;
}

export function freshScanState(): DeletionScanState {
  return { after: null, listed: 0, deleted: 0, notLocal: 0, requests: 0, done: false };
}

export class DeletionScanError extends AppError {
  override name = 'DeletionScanError';
  declare readonly code: 'deletion_scan_failed';
  constructor(message: string, options?: ErrorOptions) {
    super('deletion_scan_failed', message, options);
  }
}

/** Whether deletion scans can run for this connector's entity. */
export const canScanDeletions = (connector: Connector): boolean =>
  connector.fetchIds !== undefined || connector.presentIds !== undefined;

export async function runDeletionScan(options: DeletionScanOptions): Promise<DeletionScanState> {
  const { transport, connector, records } = options;
  const fetchIds = connector.fetchIds?.bind(connector);
  const state = options.resume ? structuredClone(options.resume) : freshScanState();
  if (state.done) return state;
  if (!fetchIds) {
    const presentIds = connector.presentIds?.bind(connector);
    if (!presentIds) throw new DeletionScanError(`${connector.label}: this connector cannot list ids.`);
    return runExistenceScan(options, presentIds, state);
  }
  const pageSize = options.pageSize ?? 200;
  const batchSize = options.batchSize ?? 500;
  const store = transport.storeKey;
  const entity = connector.entity;
  const deletedAt = (options.now?.() ?? new Date()).toISOString();

  const local = records.liveIds(store, entity, state.after ?? undefined)[Symbol.asyncIterator]();
  const gone: string[] = [];
  const flush = async () => {
    if (gone.length > 0) state.deleted += await records.markDeleted(store, entity, gone.splice(0), deletedAt);
  };
  try {
    let next = await local.next();
    /** Every local id before `id` (all of them when undefined) is gone from the store. */
    const passOver = async (id: string | undefined) => {
      while (!next.done && (id === undefined || compareRecordIds(next.value, id) < 0)) {
        gone.push(next.value);
        if (gone.length >= batchSize) await flush();
        next = await local.next();
      }
    };
    for (;;) {
      options.signal?.throwIfAborted();
      const page = await fetchIds(transport, { after: state.after, pageSize });
      state.requests++;
      checkPage(page.ids, page.totalCount, state.after, pageSize, connector.label);
      for (const id of page.ids) {
        await passOver(id);
        if (!next.done && next.value === id) next = await local.next();
        else state.notLocal++;
        state.listed++;
      }
      const last = page.ids.length < pageSize;
      if (last) await passOver(undefined);
      else state.after = page.ids.at(-1) ?? state.after;
      await flush();
      state.done = last;
      await options.checkpoint?.(state);
      if (last) return state;
    }
  } finally {
    await local.return?.();
  }
}

/**
 * The scan the other way round, for a store that cannot list its ids in our order: the local live ids,
 * a batch at a time, asked back. One batch of ids in memory; `after` is the last local id checked.
 * Before a batch's absent ids are marked, the first is asked on its own: a store that answered the
 * batch wrongly (a filter it read differently) would otherwise have a whole batch marked deleted.
 */
async function runExistenceScan(
  options: DeletionScanOptions,
  presentIds: (transport: Transport, ids: string[]) => Promise<Set<string>>,
  state: DeletionScanState,
): Promise<DeletionScanState> {
  const { transport, connector, records } = options;
  const pageSize = options.pageSize ?? 200;
  const store = transport.storeKey;
  const deletedAt = (options.now?.() ?? new Date()).toISOString();
  const local = records.liveIds(store, connector.entity, state.after ?? undefined)[Symbol.asyncIterator]();
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const batch: string[] = [];
      for (let next = await local.next(); !next.done; next = await local.next()) {
        batch.push(next.value);
        if (batch.length >= pageSize) break;
      }
      if (batch.length > 0) {
        const present = await presentIds(transport, batch);
        state.requests++;
        const gone = batch.filter((id) => !present.has(id));
        if (gone.length > 0) {
          const first = gone[0] as string;
          state.requests++;
          if ((await presentIds(transport, [first])).has(first))
            throw new DeletionScanError(
              `${connector.label}: the store left ${first} out of a batch answer but lists it when asked alone; nothing was marked deleted from this batch on.`,
            );
          state.deleted += await records.markDeleted(store, connector.entity, gone, deletedAt);
        }
        state.listed += present.size;
        state.after = batch.at(-1) ?? state.after;
      }
      state.done = batch.length < pageSize;
      await options.checkpoint?.(state);
      if (state.done) return state;
    }
  } finally {
    await local.return?.();
  }
}

/**
 * What makes the merge safe: ids strictly ascending after `after` (a store that ignored the filter or
 * the sort would otherwise have every local id passed over), and a short page only at the end.
 */
function checkPage(ids: string[], totalCount: number, after: string | null, pageSize: number, label: string) {
  let previous = after;
  for (const id of ids) {
    if (previous !== null && compareRecordIds(previous, id) >= 0) {
      throw new DeletionScanError(
        `${label}: the store listed id ${id} after ${previous}; a deletion scan needs ids in ascending order, so nothing was marked deleted from this page on.`,
      );
    }
    previous = id;
  }
  if (ids.length > pageSize)
    throw new DeletionScanError(`${label}: the store listed ${ids.length} ids for a page of ${pageSize}.`);
  if (ids.length < pageSize && totalCount > ids.length) {
    throw new DeletionScanError(
      `${label}: the store counts ${totalCount} ids but listed ${ids.length}; the scan stops rather than mark the rest deleted.`,
    );
  }
}
