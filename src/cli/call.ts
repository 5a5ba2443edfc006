import { Command, InvalidArgumentError } from 'commander';
import { ActivationService } from '../activation/activation-service.js';
import { clientForIntegration } from '../activation/store-client.js';
import { configOrExit } from './lifecycle.js';
import { pickIntegration } from './pick-integration.js';
import { createLogger } from '../config/logger.js';
import { exchangeTokens } from '../magento/token-exchange.js';
import { MagentoError } from '../magento/errors.js';
import { openStoreStorage } from './open-storage.js';
import { usageErrorsExit2 } from './usage.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

const program = new Command()
  .name('npm run call --')
  .description(
    'Make one REST call to a linked store with its stored credentials (OAuth-signed, or an IMS Bearer token for a Cloud Service store) and print the JSON answer.',
  )
  .argument('<method>', 'GET, POST, PUT or DELETE', (v: string) => {
    const m = v.toUpperCase();
    if (!(METHODS as readonly string[]).includes(m))
      throw new InvalidArgumentError('must be GET, POST, PUT or DELETE.');
    return m as Method;
  })
  .argument(
    '<path>',
    "REST path after /rest/ (after the tenant id on a Cloud Service store), e.g. V1/store/storeConfigs or 'V1/products?searchCriteria[pageSize]=5'",
  )
  .option('--data <json>', 'JSON body for POST/PUT', (v: string) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      throw new InvalidArgumentError('is not valid JSON.');
    }
  })
  .option('--store <keyOrUrl>', 'consumer key or store URL (needed when several stores are linked)')
  .addHelpText(
    'after',
    `
Examples:
  npm run call -- GET V1/store/storeConfigs
  npm run call -- GET 'V1/products?searchCriteria[pageSize]=2' --store http://127.0.0.1:3100
  npm run call -- PUT V1/products/SIM-000001 --data '{"product":{"price":12.5}}'`,
  )
  .showHelpAfterError();

usageErrorsExit2(program).parse();
const [method, rawPath] = program.processedArgs as [Method, string];
const opts = program.opts<{ data?: unknown; store?: string }>();

const config = configOrExit();
const logger = createLogger({ level: 'warn', name: 'call' });
const storage = await openStoreStorage(config);
let exitCode = 0;
try {
  const record = pickIntegration(await storage.integrations.list(), opts.store);
  const activation = new ActivationService({
    integrations: storage.integrations,
    notices: storage.notices,
    exchange: exchangeTokens,
    signatureMethod: config.MAGENTO_SIGNATURE_METHOD,
    logger,
  });
  const client = clientForIntegration(record, { activation, integrations: storage.integrations });
  const [path = '', query = ''] = rawPath
    .replace(/^\/+/, '')
    .replace(/^rest\//, '')
    .split(/\?(.*)/s);
  const searchParams = [...new URLSearchParams(query)];
  const started = performance.now();
  const answer =
    method === 'GET'
      ? await client.get(path, { searchParams })
      : method === 'DELETE'
        ? await client.delete(path)
        : method === 'POST'
          ? await client.post(path, opts.data ?? {})
          : await client.put(path, opts.data ?? {});
  console.log(JSON.stringify(answer, null, 2));
  console.error(`${method} ${record.storeOrigin} ${path}: ${Math.round(performance.now() - started)} ms`);
} catch (error) {
  console.error(error instanceof MagentoError || error instanceof Error ? error.message : String(error));
  exitCode = 1;
} finally {
  await storage.close();
}
process.exit(exitCode);
