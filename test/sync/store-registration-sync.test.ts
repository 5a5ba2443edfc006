import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import { startTestConnector } from '../helpers/connector.js';
import { manualIntegration } from '../helpers/simulator.js';
import { MAGENTO2_ENTITIES } from '../../src/sync/magento2/channel.js';

const TENANT = 'synctenant';
const IMS = { clientId: 'sync-test-client', clientSecret: 'p8e-sync-test-secret-7y3k' };

let saas: RunningSimulator;
let paas: RunningSimulator;
let connector: Awaited<ReturnType<typeof startTestConnector>>;

beforeAll(async () => {
  saas = await startSimulator({
    port: 0,
    seed: 7,
    products: 150,
    customers: 12,
    orders: 9,
    saas: { tenantId: TENANT },
    imsClients: [IMS],
  });
  paas = await startSimulator({ port: 0, seed: 8, products: 70, customers: 4, orders: 3 });
  // Nothing scheduled: the test queues each run itself.
  connector = await startTestConnector({ SYNC_INTERVALS: 'products=0,customers=0,orders=0' });
});
afterAll(async () => {
  await connector.close();
  await saas.close();
  await paas.close();
});

const env = () => ({ DATA_DIR: connector.dataDir, NODE_ENV: 'test', LOG_LEVEL: 'warn' });

interface Listed {
  key: string;
  auth: string;
  registration: string;
  status: string;
  store: string;
  kind: string;
}

async function listed(): Promise<Listed[]> {
  const out = await runCli('store', ['list', '--json'], env());
  expect(out.code).toBe(0);
  return JSON.parse(out.stdout) as Listed[];
}

/** Every file of the data dir (snapshots and journals), as text. */
async function dataDirText(): Promise<string> {
  const entries = await readdir(connector.dataDir, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => path.join(connector.dataDir, e.name));
  return (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
}

describe('an Adobe Commerce as a Cloud Service store (IMS)', () => {
  it('is registered by add-saas (secret on stdin, checked first), synced over HTTP and callable', async () => {
    const added = await runCli(
      'store',
      [
        'add-saas',
        '--url',
        `${saas.url}/${TENANT}/`,
        '--client-id',
        IMS.clientId,
        '--ims-url',
        `${saas.url}/ims/token/v3`,
      ],
      env(),
      `${IMS.clientSecret}\n`,
    );
    expect(added.stderr).toMatch(/Credentials work/);
    expect(added.code).toBe(0);
    expect(added.stdout + added.stderr).not.toContain(IMS.clientSecret);
    const store = (await listed()).find((s) => s.store === `${saas.url}/${TENANT}/`);
    expect(store).toMatchObject({
      auth: 'ims-server-to-server',
      registration: 'ims',
      status: 'active',
      kind: 'Adobe Commerce as a Cloud Service',
    });
    expect(store?.key).toMatch(/^[0-9a-z]{32}$/);
    expect(await dataDirText()).not.toContain(IMS.clientSecret);

    const key = store!.key;
    const issuedBefore = saas.ims.requests.filter((r) => r.status === 200).length;
    await connector.connector.sync.enqueueStore(key);
    await connector.connector.sync.idle();
    const runs = await connector.connector.sync.listRuns(key);
    expect(runs.map((r) => `${r.entity}:${r.ok}`).sort()).toEqual(
      MAGENTO2_ENTITIES.map((entity) => `${entity}:true`).sort(),
    );
    const { records } = connector.connector;
    expect(await records.count(key, 'products')).toBe(150);
    expect(await records.count(key, 'customers')).toBe(12);
    expect(await records.count(key, 'orders')).toBe(9);
    const sample = await records.get(key, 'products', '150');
    expect(sample?.data).toMatchObject({ sku: saas.catalog.findProduct('SIM-000150')?.sku });
    // Three entities' runs and every page shared one token.
    expect(saas.ims.requests.filter((r) => r.status === 200).length - issuedBefore).toBe(1);

    // Neither the client secret nor a token reached the connector's log.
    const logs = connector.logs.join('');
    expect(logs).not.toContain(IMS.clientSecret);
    expect(saas.ims.tokens.size).toBeGreaterThan(0);
    for (const token of saas.ims.tokens.keys()) expect(logs).not.toContain(token);

    const call = await runCli('call', ['GET', 'V1/products/SIM-000003', '--store', key], env());
    expect(call.code).toBe(0);
    expect(JSON.parse(call.stdout)).toMatchObject({ sku: 'SIM-000003' });
  });

  it('is not stored when IMS refuses the secret, and says so', async () => {
    const before = (await listed()).length;
    const added = await runCli(
      'store',
      [
        'add-saas',
        '--url',
        `${saas.url}/${TENANT}/`,
        '--client-id',
        IMS.clientId,
        '--ims-url',
        `${saas.url}/ims/token/v3`,
      ],
      { ...env(), IMS_CLIENT_SECRET: 'p8e-wrong-secret-000000' },
    );
    expect(added.code).toBe(1);
    expect(added.stderr).toMatch(/IMS refused the client credentials \(HTTP 401, invalid_client/);
    expect(added.stderr).toMatch(/Nothing was stored/);
    expect(added.stderr).not.toContain('p8e-wrong-secret-000000');
    expect((await listed()).length).toBe(before);
  });

  it('in production refuses an IMS token URL over plain http before sending the secret anywhere', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'store-prod-'));
    try {
      const sent = saas.ims.requests.length;
      const prod = {
        DATA_DIR: dataDir,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32),
        // The store itself is listed; the token endpoint (another origin, plain http) is not.
        STORE_URL_ALLOWLIST: saas.url,
        IMS_CLIENT_SECRET: IMS.clientSecret,
      };
      const tokenUrl = `${saas.url.replace('127.0.0.1', 'localhost')}/ims/token/v3`;
      const args = ['add-saas', '--url', `${saas.url}/${TENANT}/`, '--client-id', IMS.clientId];
      for (const extra of [[], ['--no-check']]) {
        const added = await runCli('store', [...args, '--ims-url', tokenUrl, ...extra], prod);
        expect(added.code).toBe(1);
        expect(added.stderr).toMatch(/IMS token endpoint http:\/\/localhost:\d+ uses plain http/);
      }
      expect(saas.ims.requests.length).toBe(sent);
      const list = await runCli('store', ['list', '--json'], prod);
      expect(JSON.parse(list.stdout)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a REST base without a tenant id, and scopes without commerce.accs', async () => {
    const noTenant = await runCli(
      'store',
      ['add-saas', '--url', `${saas.url}/`, '--client-id', IMS.clientId, '--no-check'],
      { ...env(), IMS_CLIENT_SECRET: IMS.clientSecret },
    );
    expect(noTenant.code).toBe(1);
    expect(noTenant.stderr).toMatch(/tenant id/);
    const noScope = await runCli(
      'store',
      [
        'add-saas',
        '--url',
        `${saas.url}/${TENANT}/`,
        '--client-id',
        IMS.clientId,
        '--scopes',
        'openid',
        '--no-check',
      ],
      { ...env(), IMS_CLIENT_SECRET: IMS.clientSecret },
    );
    expect(noScope.code).toBe(1);
    expect(noScope.stderr).toMatch(/commerce\.accs/);
  });
});

describe('a manual integration (four pasted credentials)', () => {
  it('is registered by add-manual without the handshake, then synced like an activated one', async () => {
    const { credentials } = await manualIntegration(paas.url, 'all');
    const added = await runCli(
      'store',
      ['add-manual', '--url', `${paas.url}/`, '--consumer-key', credentials.consumerKey],
      env(),
      [credentials.consumerSecret, credentials.token, credentials.tokenSecret].join('\n') + '\n',
    );
    expect(added.stderr).toMatch(/Credentials work/);
    expect(added.code).toBe(0);
    const store = (await listed()).find((s) => s.key === credentials.consumerKey);
    expect(store).toMatchObject({ auth: 'oauth1-integration', registration: 'manual', status: 'active' });
    const text = await dataDirText();
    for (const secret of [credentials.consumerSecret, credentials.token, credentials.tokenSecret]) {
      expect(text).not.toContain(secret);
    }

    await connector.connector.sync.enqueue(credentials.consumerKey, 'products');
    await connector.connector.sync.idle();
    expect(await connector.connector.records.count(credentials.consumerKey, 'products')).toBe(70);
    const [run] = await connector.connector.sync.listRuns(credentials.consumerKey);
    expect(run).toMatchObject({ entity: 'products', ok: true, counts: { created: 70 } });
  });

  it("refuses to supersede the store's live integration unless --replace is given", async () => {
    const live = (await listed()).find(
      (s) => s.store === `${paas.url}/` && s.registration === 'manual' && s.status === 'active',
    );
    expect(live).toBeDefined();
    const { credentials } = await manualIntegration(paas.url, 'all');
    const stdin = [credentials.consumerSecret, credentials.token, credentials.tokenSecret].join('\n') + '\n';
    const args = [
      'add-manual',
      '--url',
      `${paas.url}/`,
      '--consumer-key',
      credentials.consumerKey,
      '--no-check',
    ];
    const refused = await runCli('store', args, env(), stdin);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`already has a live integration, ${live!.key}`);
    expect(refused.stderr).toMatch(/--replace/);
    let stores = await listed();
    expect(stores.some((s) => s.key === credentials.consumerKey)).toBe(false);
    expect(stores.find((s) => s.key === live!.key)?.status).toBe('active');

    const replaced = await runCli('store', [...args, '--replace'], env(), stdin);
    expect(replaced.code).toBe(0);
    stores = await listed();
    expect(stores.find((s) => s.key === credentials.consumerKey)?.status).toBe('active');
    expect(stores.find((s) => s.key === live!.key)?.status).toBe('superseded');
  });

  it('is refused, naming the cause, when the store refuses the credentials; argv never takes secrets', async () => {
    const { credentials } = await manualIntegration(paas.url, 'all');
    const wrong = await runCli(
      'store',
      ['add-manual', '--url', `${paas.url}/`, '--consumer-key', credentials.consumerKey],
      {
        ...env(),
        COMMERCE_CONSUMER_SECRET: credentials.consumerSecret,
        COMMERCE_ACCESS_TOKEN: credentials.token,
        // Another valid-looking secret: the signature is wrong.
        COMMERCE_ACCESS_TOKEN_SECRET: 'a'.repeat(32),
      },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/The store refused the credentials \(HTTP 401/);
    expect((await listed()).some((s) => s.key === credentials.consumerKey)).toBe(false);

    const malformed = await runCli(
      'store',
      ['add-manual', '--url', `${paas.url}/`, '--consumer-key', 'short'],
      {
        ...env(),
        COMMERCE_CONSUMER_SECRET: credentials.consumerSecret,
        COMMERCE_ACCESS_TOKEN: credentials.token,
        COMMERCE_ACCESS_TOKEN_SECRET: credentials.tokenSecret,
      },
    );
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/consumer key must be 32 characters/);

    const argv = await runCli(
      'store',
      [
        'add-manual',
        '--url',
        `${paas.url}/`,
        '--consumer-key',
        credentials.consumerKey,
        '--consumer-secret',
        'x',
      ],
      env(),
    );
    expect(argv.code).not.toBe(0);
    expect(argv.stderr).toMatch(/unknown option '--consumer-secret'/);
  });
});
