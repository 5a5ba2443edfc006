import type { IntegrationRecord } from '../storage/types.js';
import { loopbackAddress, magentoToken } from './common.js';
import { withStorage } from './open-storage.js';

/**
 * Blocks of loopback addresses for seeded stores (62,750 each; 200-209, clear of the blocks activating
 * stores and load sources use).
 */
export const SEED_BLOCK = 200;
const PER_BLOCK = 251 * 250;

/**
 * `count` active integrations with fake tokens and distinct stores, written through the storage API
 * before the connector starts. Gives up (throws) after `timeoutMs`: the time it takes is a figure too.
 */
export async function seedIntegrations(options: {
  dataDir: string;
  encryptionKey: string;
  databaseUrl?: string;
  count: number;
  storePort: number;
  timeoutMs: number;
  /** Writes in flight at once (a storage that groups writes gains from more). */
  parallel?: number;
}): Promise<{ ms: number }> {
  const started = performance.now();
  await withStorage(options, async (storage) => {
    const at = new Date(Date.now() - 86_400_000).toISOString();
    const record = (i: number): IntegrationRecord => {
      const address = loopbackAddress(i % PER_BLOCK, SEED_BLOCK + Math.floor(i / PER_BLOCK));
      const storeBaseUrl = `http://${address}:${options.storePort}/`;
      return {
        consumerKey: magentoToken(),
        storeBaseUrl,
        storeOrigin: new URL(storeBaseUrl).origin,
        status: 'active',
        consumerSecret: magentoToken(),
        verifier: magentoToken(),
        accessToken: magentoToken(),
        accessTokenSecret: magentoToken(),
        signatureMethod: 'HMAC-SHA256',
        receivedAt: at,
        activatedAt: at,
        callbackCount: 1,
        createdAt: at,
        updatedAt: at,
        events: [{ at, step: 'callback_received', ok: true }],
        history: [],
      };
    };
    let next = 0;
    const deadline = Date.now() + options.timeoutMs;
    const worker = async () => {
      for (let i = next++; i < options.count; i = next++) {
        if (Date.now() > deadline) {
          throw new Error(
            `seeding ${options.count} integrations through the storage API took longer than ${options.timeoutMs / 1000} s (${i} written)`,
          );
        }
        await storage.integrations.put(record(i));
      }
    };
    await Promise.all(Array.from({ length: options.parallel ?? 50 }, worker));
  });
  return { ms: Math.round(performance.now() - started) };
}
