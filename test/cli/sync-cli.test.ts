import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newEncryptionKey } from '../../src/bench/common.js';
import { spawnConnector } from '../../src/bench/connector-process.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { openStorage } from '../../src/storage/open.js';
import type { SyncRun } from '../../src/sync/sync-service.js';
import { runCli } from '../helpers/cli.js';
import { linkSimulatorStore } from '../helpers/linked-connector.js';

/**
 * `npm run sync` over real embedded storage in a temp folder, against the simulator: run in its own
 * process when no connector works the folder, queued for the connector (and followed) when one does.
 */
const PRODUCTS = 30;
let sim: RunningSimulator;
let dir: string;
let key: string;
const encryptionKey = newEncryptionKey();

async function linkedFolder(name: string): Promise<string> {
  const dataDir = path.join(dir, name);
  const { storage } = await openStorage({ dataDir, envKey: encryptionKey, production: false });
  try {
    key = await linkSimulatorStore(storage, sim);
  } finally {
    await storage.close();
  }
  return dataDir;
}

async function runsIn(dataDir: string): Promise<{ runs: SyncRun[]; records: number }> {
  const { storage } = await openStorage({ dataDir, envKey: encryptionKey, production: false });
  try {
    return {
      runs: await storage.documents<SyncRun>('sync_runs').list({ storeKey: key }),
      records: await storage.records.count(key, 'products'),
    };
  } finally {
    await storage.close();
  }
}

const env = (dataDir: string) => ({
  DATA_DIR: dataDir,
  TOKEN_ENCRYPTION_KEY: encryptionKey,
  NODE_ENV: 'test',
  SYNC_PAGE_SIZE: '10',
});
const DONE = new RegExp(
  `^done {2}products of http://127\\.0\\.0\\.1:\\d+ \\((\\w+)\\): (\\d+) read, (\\d+) created`,
);

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: PRODUCTS, customers: 2, orders: 1 });
  dir = await mkdtemp(path.join(tmpdir(), 'sync-cli-'));
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run sync without a running connector', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await linkedFolder('alone');
  });

  it('runs the sync here with plain progress lines (not a TTY), the total from total_count', async () => {
    const run = await runCli('sync', ['--store', key, '--entity', 'products'], env(dataDir));
    expect(run.stderr).toContain('No connector works this storage');
    expect(run.code).toBe(0);
    // A line per page at most once a second, and the last one always.
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('products: '));
    expect(lines.at(-1)).toBe(`products: ${PRODUCTS}/${PRODUCTS} read`);
    for (const line of lines) expect(line).toMatch(new RegExp(`^products: \\d+/${PRODUCTS} read$`));
    expect(run.stdout).toMatch(DONE);
    expect(DONE.exec(run.stdout)?.slice(1)).toEqual(['initial', String(PRODUCTS), String(PRODUCTS)]);
    // Piped: no colour codes.
    expect(run.stdout).not.toContain('\u001b[');
    expect(await runsIn(dataDir)).toMatchObject({ records: PRODUCTS });
  }, 60_000);

  it('goes on from the cursor next time; --full reads every row again (found by store URL)', async () => {
    const next = await runCli('sync', ['--store', `${sim.url}/`, '--entity', 'products'], env(dataDir));
    expect(next.code).toBe(0);
    expect(DONE.exec(next.stdout)?.[1]).toBe('incremental');

    const full = await runCli('sync', ['--store', sim.url, '--entity', 'products', '--full'], env(dataDir));
    expect(full.code).toBe(0);
    expect(DONE.exec(full.stdout)?.slice(1)).toEqual(['initial', String(PRODUCTS), '0']);
    expect(full.stdout).toContain(`${PRODUCTS} unchanged`);
    const { runs } = await runsIn(dataDir);
    expect(runs.map((r) => r.mode).sort()).toEqual(['incremental', 'initial', 'initial']);
  }, 60_000);

  it('refuses an unknown entity or store and a missing --entity with exit code 2, naming the choices', async () => {
    const [entity, store, missing] = await Promise.all([
      runCli('sync', ['--store', key, '--entity', 'widgets'], env(dataDir)),
      runCli('sync', ['--store', 'http://nowhere.example', '--entity', 'products'], env(dataDir)),
      runCli('sync', ['--store', key], env(dataDir)),
    ]);
    expect(entity.code).toBe(2);
    expect(entity.stderr.trim()).toBe(
      'Unknown entity widgets: --entity takes one of products, customers, orders, customer_groups, shipments, categories, stock.',
    );
    expect(store.code).toBe(2);
    expect(store.stderr).toContain('No linked store matches --store http://nowhere.example. Linked stores:');
    expect(store.stderr).toContain(`  ${key}  ${sim.url}/  (active)`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--entity <name>' not specified");
  }, 60_000);
});

describe('npm run sync beside a running connector', () => {
  it('queues the run for the connector and follows it to the end', async () => {
    const dataDir = await linkedFolder('beside');
    const server = await spawnConnector({
      dataDir,
      encryptionKey,
      env: { SYNC_INTERVALS: '', SYNC_PAGE_SIZE: '10' },
    });
    try {
      const run = await runCli('sync', ['--entity', 'products'], env(dataDir));
      expect(run.stderr).toContain('Queued for the running connector');
      expect(run.code).toBe(0);
      expect(
        run.stderr
          .split('\n')
          .filter((l) => l.startsWith('products: '))
          .at(-1),
      ).toBe(`products: ${PRODUCTS}/${PRODUCTS} read`);
      expect(DONE.exec(run.stdout)?.slice(1)).toEqual(['initial', String(PRODUCTS), String(PRODUCTS)]);
    } finally {
      await server.stop(10_000);
    }
    expect(await runsIn(dataDir)).toMatchObject({ records: PRODUCTS });
  }, 120_000);
});
