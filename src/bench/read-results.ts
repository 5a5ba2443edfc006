import { openStorage } from '../storage/open.js';
import type { IntegrationRecord, Storage } from '../storage/types.js';
import type { SyncRun } from '../sync/sync-service.js';

export type StoredOutcome = Pick<
  IntegrationRecord,
  'consumerKey' | 'status' | 'statusReason' | 'receivedAt' | 'activatedAt' | 'storeBaseUrl'
> & { hasAccessToken: boolean; linked: boolean };

type OpenOptions = Parameters<typeof openStorage>[0];

/**
 * Where a connector keeps its data. The embedded default must only be opened once the connector
 * process has exited (one process per data file). With `databaseUrl`, the PostgreSQL adapter is asked
 * for; a storage of another kind is an error, not an empty answer.
 */
export interface ReadOptions {
  dataDir: string;
  encryptionKey: string;
  databaseUrl?: string;
}

/** Opens the connector's storage, runs `read`, closes. */
export async function withStorage<T>(
  options: ReadOptions,
  read: (storage: Storage) => Promise<T>,
): Promise<T> {
  // A variable, not a literal: `databaseUrl` is passed through to whichever openStorage takes it.
  const open: OpenOptions & { databaseUrl?: string } = {
    dataDir: options.dataDir,
    envKey: options.encryptionKey,
    production: false,
    logger: { warn: () => undefined },
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
  };
  const { storage } = await openStorage(open);
  try {
    if (options.databaseUrl && storage.kind !== 'postgres') {
      throw new Error(
        `openStorage({ databaseUrl }) opened the ${storage.kind} storage: there is no PostgreSQL adapter to read from.`,
      );
    }
    return await read(storage);
  } finally {
    await storage.close();
  }
}

/** Every integration as the connector stored it. */
export function readStoredIntegrations(options: ReadOptions): Promise<StoredOutcome[]> {
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
export function readSyncRuns(options: ReadOptions): Promise<SyncRun[]> {
  return withStorage(options, (storage) => storage.documents<SyncRun>('sync_runs').list());
}
