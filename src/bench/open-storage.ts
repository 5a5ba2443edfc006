import { openStorage } from '../storage/open.js';
import type { Storage } from '../storage/types.js';

/** Where a connector under test keeps its data. */
export interface BenchStorageOptions {
  dataDir: string;
  encryptionKey: string;
  /** DATABASE_URL: the PostgreSQL adapter, which must then be the one opened. */
  databaseUrl?: string | undefined;
}

/** Opens a connector's storage from the bench's own process, runs `work`, closes; warnings are not the bench's output. */
export async function withStorage<T>(
  options: BenchStorageOptions,
  work: (storage: Storage) => Promise<T>,
): Promise<T> {
  const { storage } = await openStorage({
    dataDir: options.dataDir,
    envKey: options.encryptionKey,
    production: false,
    logger: { warn: () => undefined },
    databaseUrl: options.databaseUrl,
  });
  try {
    // Figures from the embedded files would pass for PostgreSQL's.
    if (options.databaseUrl && storage.kind !== 'postgres') {
      throw new Error(`DATABASE_URL given but the ${storage.kind} storage was opened.`);
    }
    return await work(storage);
  } finally {
    await storage.close();
  }
}
