import { loadOrCreateKey, type WarnLogger } from './crypto.js';
import { createLowdbStorage } from './lowdb-storage.js';
import type { Storage } from './types.js';

/** The encryption key and the default storage, as every command and the server open them. */
export async function openStorage(options: {
  dataDir: string;
  envKey: string | undefined;
  production: boolean;
  logger?: WarnLogger;
}): Promise<{ storage: Storage; key: Buffer }> {
  const key = await loadOrCreateKey(options);
  const storage = await createLowdbStorage({ dataDir: options.dataDir, key });
  return { storage, key };
}
