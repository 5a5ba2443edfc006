import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { freshCheckpoint } from '../../src/sync/run-sync.js';
import type { SyncJob } from '../../src/sync/sync-service.js';
import { loggedInAgent } from '../helpers/connector.js';
import { linkTestConnector, type TestConnector } from '../helpers/linked-connector.js';

let sim: RunningSimulator;
let t: TestConnector;
let key: string;

beforeAll(async () => {
  ({
    sim,
    t,
    store: key,
  } = await linkTestConnector({ products: 2, customers: 1, orders: 1 }, { SYNC_INTERVALS: '' }));
  // A run part-way through, as a worker leaves it after a page: 200 of the store's 1000 rows read.
  const checkpoint = { ...freshCheckpoint(null), page: 1, total: 1000 };
  checkpoint.counts.read = 200;
  await t.connector.storage.documents<SyncJob>('sync_jobs').put({
    id: 'job-in-progress',
    storeKey: key,
    entity: 'products',
    mode: 'initial',
    since: null,
    status: 'running',
    createdAt: new Date().toISOString(),
    checkpoint,
  });
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

describe('the dashboard’s running sync', () => {
  it('shows N of total read, on the page and in the live status', async () => {
    const agent = await loggedInAgent(t.connector.url);
    const page = await agent.get('/').expect(200);
    expect(page.text).toContain('<span data-field="job-products">running (initial, 200 of 1000 read)</span>');
    const api = await agent.get('/api/integrations').expect(200);
    const products = (
      api.body as { integrations: { sync: { entity: string; job: unknown }[] }[] }
    ).integrations[0]!.sync.find((s) => s.entity === 'products');
    expect(products?.job).toEqual({
      status: 'running',
      mode: 'initial',
      read: 200,
      total: 1000,
      label: 'running (initial, 200 of 1000 read)',
    });
  });
});
