import { openStorage } from '../storage/open.js';
import type { IntegrationRecord } from '../storage/types.js';

export type StoredOutcome = Pick<
  IntegrationRecord,
  'consumerKey' | 'status' | 'statusReason' | 'receivedAt' | 'activatedAt' | 'storeBaseUrl'
> & { hasAccessToken: boolean };

type OpenOptions = Parameters<typeof openStorage>[0];

/**
 * Every integration as the connector stored it. The embedded default must only be opened once the
 * connector process has exited (one process per data file). With `databaseUrl`, the PostgreSQL
 * adapter is asked for; a storage of another kind is an error, not an empty answer.
 */
export async function readStoredIntegrations(options: {
  dataDir: string;
  encryptionKey: string;
  databaseUrl?: string;
}): Promise<StoredOutcome[]> {
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
    const records = await storage.integrations.list();
    return records.map((r) => ({
      consumerKey: r.consumerKey,
      status: r.status,
      statusReason: r.statusReason,
      receivedAt: r.receivedAt,
      activatedAt: r.activatedAt,
      storeBaseUrl: r.storeBaseUrl,
      hasAccessToken: Boolean(r.accessToken),
    }));
  } finally {
    await storage.close();
  }
}
