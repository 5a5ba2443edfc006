import type { Config } from '../config/config.js';
import { openStorage } from '../storage/open.js';
import type { Storage } from '../storage/types.js';

/**
 * The storage a command works on, chosen as the server chooses it (DATABASE_URL, else DATA_DIR).
 * Warnings go to stderr so stdout stays the command's own output.
 */
export async function openCliStorage(
  config: Pick<Config, 'DATA_DIR' | 'TOKEN_ENCRYPTION_KEY' | 'NODE_ENV' | 'DATABASE_URL'>,
): Promise<Storage> {
  const { storage } = await openStorage({
    dataDir: config.DATA_DIR,
    envKey: config.TOKEN_ENCRYPTION_KEY,
    production: config.NODE_ENV === 'production',
    databaseUrl: config.DATABASE_URL,
    logger: { warn: (details, message) => console.error(`${message} ${JSON.stringify(details)}`) },
  });
  return storage;
}
