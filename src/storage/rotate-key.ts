import { DifferentKeyError, type WarnLogger } from './crypto.js';
import { createEmbeddedStorage } from './embedded/embedded-storage.js';
import { rotatePostgresKey } from './postgres/rotate-key.js';
import type { KeyRotation } from './types.js';

export type KeyRotationResult = KeyRotation & {
  /** The data was on the new key already (a rotation interrupted after its commit). */
  alreadyRotated: boolean;
};

/**
 * Re-encrypts every stored secret from `oldKey` to `newKey`, in the storage the server would open
 * (DATABASE_URL, else the files under dataDir). All or nothing in both adapters.
 */
export async function rotateStorageKey(options: {
  dataDir: string;
  databaseUrl?: string | undefined;
  oldKey: Buffer;
  newKey: Buffer;
  logger?: WarnLogger;
  onProgress?: (done: number, total: number) => void;
}): Promise<KeyRotationResult> {
  if (options.databaseUrl) {
    return rotatePostgresKey({
      url: options.databaseUrl,
      oldKey: options.oldKey,
      newKey: options.newKey,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }
  const open = (key: Buffer) =>
    createEmbeddedStorage({ dataDir: options.dataDir, key, logger: options.logger });
  let storage;
  try {
    storage = await open(options.oldKey);
  } catch (error) {
    if (!(error instanceof DifferentKeyError)) throw error;
    // Not on the old key: done already if on the new one, else the old key given is wrong.
    const rotated = await open(options.newKey).catch(() => {
      throw error;
    });
    await rotated.close();
    return { integrations: 0, secrets: 0, alreadyRotated: true };
  }
  try {
    const done = await storage.rotateKey(options.newKey);
    return { ...done, alreadyRotated: false };
  } finally {
    await storage.close();
  }
}
