import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { imsStoreRecord } from '../activation/register-store.js';
import { createLogger } from '../config/logger.js';
import { startSimulator } from '../simulator/server.js';
import { DEV_DEMO_PASSWORD, startConnector } from '../web/connector.js';
import { closeOnSignals, configOrExit } from './lifecycle.js';

const port = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`${name} must be a port number.`);
  return n;
};

const config = configOrExit();
const program = new Command()
  .name('npm run demo --')
  .description('The whole activation on one machine: a store simulator and the connector, ready to click.')
  .option('--port <port>', 'connector port', port('--port'), config.PORT)
  .option('--store-port <port>', 'store simulator port', port('--store-port'), config.SIMULATOR_PORT)
  .option('--data <dir>', 'demo data folder (emptied at every start)', path.join(config.DATA_DIR, 'demo'))
  .option(
    '--saas',
    'the store is Adobe Commerce as a Cloud Service: no handshake, connected with IMS client credentials',
    false,
  )
  .showHelpAfterError();
program.parse();
const opts = program.opts<{ port: number; storePort: number; data: string; saas: boolean }>();

// Quiet unless asked: the instructions below are what the presenter needs to see.
const logger = createLogger({
  level: process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn',
  name: 'demo',
  nodeEnv: config.NODE_ENV,
});
const host = config.HOST;
const demoPassword = config.DEMO_USER_PASSWORD ?? DEV_DEMO_PASSWORD;

try {
  await rm(opts.data, { recursive: true, force: true });
  const store = await startSimulator({
    host: config.SIMULATOR_HOST,
    port: opts.storePort,
    magentoVersion: config.SIMULATOR_MAGENTO_VERSION,
    products: config.SIMULATOR_PRODUCTS,
    customers: config.SIMULATOR_CUSTOMERS,
    orders: config.SIMULATOR_ORDERS,
    seed: config.SIMULATOR_SEED,
    logger,
    ...(opts.saas ? { saas: { tenantId: config.SIMULATOR_TENANT_ID } } : {}),
  });
  const storeOrigin = new URL(store.url).origin;
  const connector = await startConnector(
    {
      ...config,
      NODE_ENV: config.NODE_ENV === 'production' ? 'development' : config.NODE_ENV,
      PORT: opts.port,
      HOST: host,
      DATA_DIR: opts.data,
      DEMO_USER_PASSWORD: demoPassword,
      // Only the bundled store may activate this demo connector.
      STORE_URL_ALLOWLIST: [storeOrigin],
    },
    logger,
  ).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  if (opts.saas) {
    // What an operator does with npm run store -- add-saas, done here with the simulator's own IMS.
    const client = store.ims.register(config.SIMULATOR_IMS_CLIENT_ID);
    const demoUser = await connector.storage.users.getByEmail(config.DEMO_USER_EMAIL);
    const record = await connector.activation.registerActive(
      imsStoreRecord(
        {
          restBaseUrl: `${store.url}/${config.SIMULATOR_TENANT_ID}/`,
          clientId: client.clientId,
          clientSecret: client.clientSecret,
          scopes: 'openid,AdobeID,commerce.accs',
          tokenUrl: `${store.url}/ims/token/v3`,
          userId: demoUser?.id,
        },
        new Date().toISOString(),
      ),
    );
    console.log(`
  Adobe Commerce as a Cloud Service demo: no activation handshake (integration tokens do not exist
  there); the connector holds IMS client credentials and calls ${record.storeBaseUrl}V1/... with Bearer tokens.

    Connector (the integrator):   ${connector.publicUrl}/
    Demo login:                   ${config.DEMO_USER_EMAIL} / ${demoPassword}
    IMS token endpoint:           ${store.url}/ims/token/v3 (client ${client.clientId})

  The first sync has started. Open the connector, log in, and click "Test connection" or "Sync now".
  Data for this run: ${opts.data}/ (emptied at every start). Press Ctrl-C to stop both.
`);
  } else {
    const { integration } = store.integrations.create({
      name: 'Demo connector',
      email: config.DEMO_USER_EMAIL,
      endpoint_url: `${connector.publicUrl}/magento/callback`,
      identity_link_url: `${connector.publicUrl}/magento/identity`,
      // What the connector syncs, so the demo's scheduled runs are not refused; manage: customer
      // writes, so `npm run import -- --entity customers` works against the demo store.
      resources: [
        'Magento_Backend::stores',
        'Magento_Catalog::products',
        'Magento_Customer::customer',
        'Magento_Customer::manage',
        'Magento_Customer::group',
        'Magento_Sales::shipment',
        'Magento_Catalog::categories',
        'Magento_InventoryApi::source',
        'Magento_InventoryApi::stock_source_item_assign',
      ],
    });
    console.log(`
  Magento integration demo: a store and the connector, side by side.

    Store admin (the merchant):   ${store.url}/admin/integrations
    Connector (the integrator):   ${connector.publicUrl}/
    Demo login:                   ${config.DEMO_USER_EMAIL} / ${demoPassword}

  What to click:
    1. In the store admin, click "Activate" on "${integration.name}", then "Allow".
    2. The store posts its credentials to the connector and opens the connector's login in a popup.
       Log in with the demo login; the popup follows the token exchange, returns to the store and closes.
    3. The store's grid shows "Active". Open the connector, log in, and click "Test connection".

  Data for this run: ${opts.data}/ (emptied at every start). Press Ctrl-C to stop both.
`);
  }
  closeOnSignals(async () => {
    await connector.close();
    await store.close();
  }, logger);
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  console.error(
    e.code === 'EADDRINUSE'
      ? `A port is already in use (${e.message}). Stop the other process, or pick ports: npm run demo -- --port 3010 --store-port 3110`
      : `The demo could not start: ${e.message}`,
  );
  process.exit(1);
}
