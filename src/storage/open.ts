import { chmod, mkdir } from 'node:fs/promises';
import { loadOrCreateKey, type WarnLogger } from './crypto.js';
import { createEmbeddedStorage } from './embedded/embedded-storage.js';
import { createPostgresStorage } from './postgres/postgres-storage.js';
import type { Storage } from './types.js';

/** The encryption key and the default storage, as every command and the server open them. */
export async function openStorage(options: {
  dataDir: string;
  envKey: string | undefined;
  production: boolean;
  logger?: WarnLogger;
  /** DATABASE_URL: PostgreSQL instead of the files under dataDir. */
  databaseUrl?: string | undefined;
  /** PostgreSQL: how often jobs of dead instances are looked for. */
  expiryCheckSeconds?: number;
}): Promise<{ storage: Storage; key: Buffer }> {
  if (options.databaseUrl) {
    const key = await loadOrCreateKey(options);
    const storage = await createPostgresStorage({
      url: options.databaseUrl,
      key,
      ...(options.expiryCheckSeconds ? { maintenanceIntervalSeconds: options.expiryCheckSeconds } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    return { storage, key };
  }
  await mkdir(options.dataDir, { recursive: true });
  // db.json is rewritten through a temp file, so its mode comes from the umask: close the folder instead.
  await chmod(options.dataDir, 0o700).catch(() => undefined);
  const key = await loadOrCreateKey(options);
  const storage = await createEmbeddedStorage({ dataDir: options.dataDir, key, logger: options.logger });
  return { storage, key };
}
