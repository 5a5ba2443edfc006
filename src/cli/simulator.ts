import { Command, InvalidArgumentError, Option } from 'commander';
import { MAGENTO_VERSIONS, type MagentoVersion } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { closeOnSignals, configOrExit } from './lifecycle.js';
import { anotherPort, isPortInUse, portInUseMessage } from './port-in-use.js';
import type { FaultRuleInput } from '../simulator/faults.js';
import { startSimulator } from '../simulator/server.js';
import { usageErrorsExit2 } from './usage.js';

const int = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
  }
  return n;
};
const share = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError(`${name} must be a share from 0 to 1.`);
  return n;
};

const config = configOrExit();

const program = new Command()
  .name('npm run simulator --')
  .description(
    'A local Magento 2 store: integrations admin, OAuth 1.0a token endpoints and a signed REST subset.',
  )
  .option('--host <host>', 'address to listen on', config.SIMULATOR_HOST)
  .option(
    '--port <port>',
    'port to listen on (0 = any free port)',
    int('--port', 0, 65535),
    config.SIMULATOR_PORT,
  )
  .option(
    '--base-url <url>',
    'store_base_url sent to integrators (default: the listening address)',
    config.SIMULATOR_BASE_URL,
  )
  .addOption(
    new Option('--magento <version>', 'Magento release whose OAuth behaviour to reproduce')
      .choices([...MAGENTO_VERSIONS])
      .default(config.SIMULATOR_MAGENTO_VERSION),
  )
  .option(
    '--bearer',
    'accept integration access tokens as Bearer tokens (off by default, as in 2.4.4+)',
    config.SIMULATOR_BEARER,
  )
  .option(
    '--seed <n>',
    'seed of the generated catalog',
    int('--seed', -(2 ** 31), 2 ** 31 - 1),
    config.SIMULATOR_SEED,
  )
  .option('--products <n>', 'number of products', int('--products', 0, 1_000_000), config.SIMULATOR_PRODUCTS)
  .option(
    '--customers <n>',
    'number of customers',
    int('--customers', 0, 1_000_000),
    config.SIMULATOR_CUSTOMERS,
  )
  .option('--orders <n>', 'number of orders', int('--orders', 0, 1_000_000), config.SIMULATOR_ORDERS)
  .option('--categories <n>', 'number of categories', int('--categories', 0, 100_000), 20)
  .option(
    '--sources <n>',
    'MSI sources (every product is in "default", about half in each other)',
    int('--sources', 0, 100),
    2,
  )
  .option(
    '--fault-route <prefix>',
    'path prefix the fault options apply to (SaaS mode: /<tenant>/)',
    (value: string) => {
      if (!value.startsWith('/')) throw new InvalidArgumentError('--fault-route must start with /.');
      return value;
    },
    '/rest/',
  )
  .option('--latency <ms>', 'added latency per request', int('--latency', 0, 60_000), 0)
  .option('--error-rate <share>', 'share of requests answered 503', share('--error-rate'), 0)
  .option(
    '--rate-limit-rate <share>',
    'share of requests answered 429 with Retry-After',
    share('--rate-limit-rate'),
    0,
  )
  .option('--retry-after <s>', 'Retry-After seconds on injected 429s', int('--retry-after', 0, 3600), 1)
  .option('--drop-rate <share>', 'share of connections dropped without an answer', share('--drop-rate'), 0)
  .option(
    '--saas',
    'behave as Adobe Commerce as a Cloud Service: REST under /<tenant>/V1 with IMS Bearer tokens only',
    config.SIMULATOR_SAAS,
  )
  .option('--tenant <id>', 'tenant id in SaaS mode', config.SIMULATOR_TENANT_ID)
  .option(
    '--ims-client-id <id>',
    'IMS client registered at start (its secret: SIMULATOR_IMS_CLIENT_SECRET, or generated and printed)',
    config.SIMULATOR_IMS_CLIENT_ID,
  )
  .option(
    '--ims-token-seconds <s>',
    'lifetime of IMS access tokens',
    int('--ims-token-seconds', 1, 7 * 86_400),
    config.SIMULATOR_IMS_TOKEN_SECONDS,
  )
  .showHelpAfterError();

usageErrorsExit2(program).parse();
const opts = program.opts<{
  host: string;
  port: number;
  baseUrl?: string;
  magento: MagentoVersion;
  bearer: boolean;
  seed: number;
  products: number;
  customers: number;
  orders: number;
  categories: number;
  sources: number;
  faultRoute: string;
  latency: number;
  errorRate: number;
  rateLimitRate: number;
  retryAfter: number;
  dropRate: number;
  saas: boolean;
  tenant: string;
  imsClientId: string;
  imsTokenSeconds: number;
}>();

const logger = createLogger({ level: config.LOG_LEVEL, name: 'simulator', nodeEnv: config.NODE_ENV });
const faulty = opts.latency > 0 || opts.errorRate > 0 || opts.rateLimitRate > 0 || opts.dropRate > 0;
// In SaaS mode the REST API is under the tenant id, so faults follow it unless a route was given.
const faultRoute =
  opts.saas && program.getOptionValueSource('faultRoute') === 'default'
    ? `/${opts.tenant}/`
    : opts.faultRoute;
const faults: FaultRuleInput[] = faulty
  ? [
      {
        route: faultRoute,
        latencyMs: opts.latency,
        errorRate: opts.errorRate,
        rateLimitRate: opts.rateLimitRate,
        retryAfterSeconds: opts.retryAfter,
        dropRate: opts.dropRate,
      },
    ]
  : [];

try {
  const sim = await startSimulator({
    host: opts.host,
    port: opts.port,
    baseUrl: opts.baseUrl,
    magentoVersion: opts.magento,
    bearer: opts.bearer,
    seed: opts.seed,
    products: opts.products,
    customers: opts.customers,
    orders: opts.orders,
    categories: opts.categories,
    sources: opts.sources,
    consumerExpirySeconds: config.SIMULATOR_CONSUMER_EXPIRY_SECONDS,
    callbackTimeoutMs: config.SIMULATOR_CALLBACK_TIMEOUT_SECONDS * 1000,
    adminToken: config.SIMULATOR_ADMIN_TOKEN,
    faults,
    logger,
    ...(opts.saas ? { saas: { tenantId: opts.tenant } } : {}),
    imsTokenSeconds: opts.imsTokenSeconds,
  });
  // Registered after start so a bad tenant id is reported first; the secret is shown once, like the console does.
  const imsClient = sim.ims.register(opts.imsClientId, config.SIMULATOR_IMS_CLIENT_SECRET);
  logger.info(
    { magento: opts.magento, bearer: opts.bearer, products: opts.products, faults },
    'store simulator started',
  );
  const secretNote = config.SIMULATOR_IMS_CLIENT_SECRET
    ? '(SIMULATOR_IMS_CLIENT_SECRET)'
    : imsClient.clientSecret;
  console.log(
    opts.saas
      ? `
  Adobe Commerce as a Cloud Service simulator (tenant ${opts.tenant})
    REST base:    ${sim.url}/${opts.tenant}/   (IMS Bearer tokens only)
    IMS token:    ${sim.url}/ims/token/v3
    IMS client:   ${imsClient.clientId}  secret ${secretNote}
    Connect it:   IMS_CLIENT_SECRET=… npm run store -- add-saas --url ${sim.url}/${opts.tenant}/ \\
                    --client-id ${imsClient.clientId} --ims-url ${sim.url}/ims/token/v3
    Admin API:    ${sim.url}/admin/api/ims/clients
  Press Ctrl-C to stop.
`
      : `
  Magento store simulator (behaves as Magento ${opts.magento})
    Admin:        ${sim.url}/admin/integrations
    Admin API:    ${sim.url}/admin/api/integrations
    Token URLs:   ${sim.url}/oauth/token/request, ${sim.url}/oauth/token/access
    REST:         ${sim.url}/rest/V1/...
    store_base_url sent to integrators: ${sim.baseUrl()}
  Press Ctrl-C to stop.
`,
  );
  closeOnSignals(sim.close, logger);
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  if (e instanceof RangeError && /^Tenant id/.test(e.message)) {
    console.error(e.message);
  } else if (e instanceof RangeError) {
    console.error(
      `Invalid catalog size: ${e.message} (check --products/--orders or SIMULATOR_PRODUCTS/SIMULATOR_ORDERS).`,
    );
  } else if (isPortInUse(e)) {
    console.error(
      await portInUseMessage({
        what: 'The store simulator',
        host: opts.host,
        port: opts.port,
        otherPort: `npm run simulator -- --port ${anotherPort(opts.port)} (or SIMULATOR_PORT)`,
      }),
    );
  } else {
    console.error(`The simulator could not start: ${e.message}`);
  }
  process.exit(1);
}
