import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newEncryptionKey } from '../../src/bench/common.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { openStorage } from '../../src/storage/open.js';
import type { SyncRun } from '../../src/sync/sync-service.js';
import { runCli } from '../helpers/cli.js';
import { linkSimulatorStore } from '../helpers/linked-connector.js';

let sim: RunningSimulator;
let dataDir: string;
let key: string;
const encryptionKey = newEncryptionKey();
const env = () => ({ DATA_DIR: dataDir, TOKEN_ENCRYPTION_KEY: encryptionKey, NODE_ENV: 'test' });

async function inStorage<T>(
  look: (storage: Awaited<ReturnType<typeof openStorage>>['storage']) => Promise<T>,
): Promise<T> {
  const { storage } = await openStorage({ dataDir, envKey: encryptionKey, production: false });
  try {
    return await look(storage);
  } finally {
    await storage.close();
  }
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 15, customers: 2, orders: 1 });
  dataDir = await mkdtemp(path.join(tmpdir(), 'store-unlink-'));
  key = await inStorage((storage) => linkSimulatorStore(storage, sim));
});
afterAll(async () => {
  await sim.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm run store -- unlink', () => {
  it('asks first (--yes off a terminal), then deletes the tokens, runs and records and says what to do in the admin', async () => {
    expect((await runCli('sync', ['--entity', 'products'], env())).code).toBe(0);
    expect(await inStorage((s) => s.records.count(key, 'products'))).toBe(15);

    const unconfirmed = await runCli('store', ['unlink', key], env());
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('15 synced records are deleted. Confirm with --yes');
    expect(await inStorage((s) => s.integrations.get(key))).toBeDefined();

    const unknown = await runCli('store', ['unlink', 'http://nowhere.example', '--yes'], env());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      `No store matches http://nowhere.example. Stores:\n  ${key}  ${sim.url}/`,
    );

    // `remove` is the same command; the store is found by its URL.
    const done = await runCli('store', ['remove', sim.url, '--yes'], env());
    expect(done.code).toBe(0);
    expect(done.stdout).toContain(`Unlinked ${sim.url}/ (${key}): its tokens are deleted`);
    expect(done.stdout).toContain('15 synced records deleted');
    expect(done.stdout).toContain(
      `In the store admin (System > Extensions > Integrations), delete the integration whose consumer key is ${key}`,
    );
    const left = await inStorage(async (s) => ({
      integration: await s.integrations.get(key),
      records: await s.records.count(key, 'products'),
      runs: await s.documents<SyncRun>('sync_runs').list({ storeKey: key }),
    }));
    expect(left).toEqual({ integration: undefined, records: 0, runs: [] });
  }, 60_000);
});
