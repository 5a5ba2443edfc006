import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { openStorage } from '../../src/storage/open.js';
import { startTestConnector } from '../helpers/connector.js';
import { runCli } from '../helpers/cli.js';
import { adminJson } from '../helpers/http.js';

let sim: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;

/** `npm run call` with the test connector's data folder. */
const call = (args: string[]) => runCli('call', args, { DATA_DIR: t.dataDir, NODE_ENV: 'test' });

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 12, customers: 2, orders: 2 });
  t = await startTestConnector();
  const created = await adminJson<{ id: number; consumer_key: string }>(sim.url, 'POST', '/integrations', {
    name: 'CLI',
    endpoint_url: `${t.connector.url}/magento/callback`,
    identity_link_url: `${t.connector.url}/magento/identity`,
    resources: ['Magento_Catalog::products', 'Magento_Backend::stores'],
  });
  await adminJson(sim.url, 'POST', `/integrations/${created.body.id}/activate`);
  await t.connector.activation.settled(created.body.consumer_key);
  // The CLI opens the same db.json; let the server's first sync finish and stop writing first.
  await t.connector.sync.idle();
  await t.connector.sync.stop();
  await t.connector.storage.close();
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

describe('npm run call', () => {
  it('makes a signed GET with a nested query and prints the JSON answer', async () => {
    const res = await call([
      'GET',
      'V1/products?searchCriteria[pageSize]=3&searchCriteria[filter_groups][0][filters][0][field]=sku&searchCriteria[filter_groups][0][filters][0][value]=SIM%25&searchCriteria[filter_groups][0][filters][0][condition_type]=like',
    ]);
    expect(res.stderr).not.toMatch(/signature/i);
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout);
    expect(body.items).toHaveLength(3);
    expect(body.total_count).toBe(12);
  });

  it('sends a PUT with --data', async () => {
    const res = await call([
      'PUT',
      'V1/products/SIM-000002',
      '--data',
      '{"product":{"name":"Changed from the CLI"}}',
    ]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).name).toBe('Changed from the CLI');
  });

  it('prints the store’s refusal and exits 1', async () => {
    const res = await call(['GET', 'V1/orders']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/isn't authorized to access Magento_Sales::actions_view/);
    // A resource not granted is not a dead token: the integration stays active.
    const { storage } = await openStorage({ dataDir: t.dataDir, envKey: undefined, production: false });
    const [record] = await storage.integrations.list();
    await storage.close();
    expect(record?.status).toBe('active');
  });

  it('refuses bad arguments with a clear message', async () => {
    const method = await call(['FETCH', 'V1/products']);
    expect(method.code).not.toBe(0);
    expect(method.stderr).toMatch(/must be GET, POST, PUT or DELETE/);
    const store = await call(['GET', 'V1/products', '--store', 'https://unknown.example']);
    expect(store.code).toBe(1);
    expect(store.stderr).toMatch(/No active integration matches https:\/\/unknown.example/);
  });
});
