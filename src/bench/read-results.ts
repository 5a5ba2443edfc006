import type { IntegrationRecord } from '../storage/types.js';
import type { SyncRun } from '../sync/sync-service.js';
import { withStorage, type BenchStorageOptions } from './open-storage.js';

export type StoredOutcome = Pick<
  IntegrationRecord,
  'consumerKey' | 'status' | 'statusReason' | 'receivedAt' | 'activatedAt' | 'storeBaseUrl'
> & { hasAccessToken: boolean; linked: boolean };

/**
 * Every integration as the connector stored it. Read once the connector process has exited: the
 * embedded default is opened by one process per data file.
 */
export function readStoredIntegrations(options: BenchStorageOptions): Promise<StoredOutcome[]> {
  return withStorage(options, async (storage) =>
    (await storage.integrations.list()).map((r) => ({
      consumerKey: r.consumerKey,
      status: r.status,
      statusReason: r.statusReason,
      receivedAt: r.receivedAt,
      activatedAt: r.activatedAt,
      storeBaseUrl: r.storeBaseUrl,
      hasAccessToken: Boolean(r.accessToken),
      linked: Boolean(r.userId),
    })),
  );
}

/** The sync status log: one entry per finished run (store, entity, ok). */
export function readSyncRuns(options: BenchStorageOptions): Promise<SyncRun[]> {
  return withStorage(options, (storage) => storage.documents<SyncRun>('sync_runs').list());
}
