import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { imsStoreRecord } from '../activation/register-store.js';
import { createLogger } from '../config/logger.js';
import { startSimulator } from '../simulator/server.js';
import { DEV_DEMO_PASSWORD, startConnector } from '../app/main.js';
import {
  DEMO_RESOURCES,
  demoDataDir,
  lockDemoFolder,
  NotDemoFolderError,
  prepareDemoFolder,
} from './demo-data.js';
import { closeOnSignals, configOrExit } from './lifecycle.js';
import { anotherPort, isPortInUse, portInUseMessage } from './port-in-use.js';
import { usageErrorsExit2 } from './usage.js';

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
  .option(
    '--data <dir>',
    'demo data folder, emptied at every start: a new folder, or one the demo created before',
    demoDataDir(config.DATA_DIR),
  )
  .option(
    '--saas',
    'the store is Adobe Commerce as a Cloud Service: no handshake, connected with IMS client credentials',
    false,
  )
  .showHelpAfterError();
usageErrorsExit2(program).parse();
const opts = program.opts<{ port: number; storePort: number; data: string; saas: boolean }>();

// Quiet unless asked: the instructions below are what the presenter needs to see.
const logger = createLogger({
  level: process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn',
  name: 'demo',
  nodeEnv: config.NODE_ENV,
});
const host = config.HOST;
const demoPassword = config.DEMO_USER_PASSWORD ?? DEV_DEMO_PASSWORD;
// The CLIs read DATA_DIR; they look in its demo folder by themselves only when DATA_DIR has no store.
const cliHint =
  path.resolve(opts.data) === path.resolve(demoDataDir(config.DATA_DIR))
    ? `  The CLIs use this data when ${config.DATA_DIR}/ has no linked store; to say so explicitly:
    DATA_DIR=${opts.data} npm run call -- GET V1/store/storeConfigs`
    : `  The CLIs use this data when told so:
    DATA_DIR=${opts.data} npm run call -- GET V1/store/storeConfigs`;

try {
  await lockDemoFolder(opts.data);
  await prepareDemoFolder(opts.data);
} catch (error) {
  const refused = error instanceof NotDemoFolderError;
  console.error(
    refused
      ? error.message
      : `The demo could not prepare its data folder ${opts.data}: ${(error as Error).message}`,
  );
  process.exit(refused ? 2 : 1);
}

// Which listener a port-in-use error is about.
let starting: 'store' | 'connector' = 'store';

try {
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
  starting = 'connector';
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
${cliHint}
`);
  } else {
    const { integration } = store.integrations.create({
      name: 'Demo connector',
      email: config.DEMO_USER_EMAIL,
      endpoint_url: `${connector.publicUrl}/magento/callback`,
      identity_link_url: `${connector.publicUrl}/magento/identity`,
      resources: [...DEMO_RESOURCES],
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
${cliHint}
`);
  }
  closeOnSignals(async () => {
    await connector.close();
    await store.close();
  }, logger);
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  if (isPortInUse(e)) {
    const store = starting === 'store';
    const free = (port: number, other: number) =>
      anotherPort(port) === other ? anotherPort(other) : anotherPort(port);
    const [storePort, connectorPort] = store
      ? [free(opts.storePort, opts.port), opts.port]
      : [opts.storePort, free(opts.port, opts.storePort)];
    console.error(
      await portInUseMessage({
        what: store ? "The demo's store simulator" : "The demo's connector",
        host: store ? config.SIMULATOR_HOST : host,
        port: store ? opts.storePort : opts.port,
        otherPort: `npm run demo -- --port ${connectorPort} --store-port ${storePort} (or PORT and SIMULATOR_PORT)`,
      }),
    );
  } else {
    console.error(`The demo could not start: ${e.message}`);
  }
  process.exit(1);
}
