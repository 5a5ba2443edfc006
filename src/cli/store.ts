import { Command, Option } from 'commander';
import { ActivationService, LiveIntegrationExistsError } from '../activation/activation-service.js';
import {
  RegistrationError,
  checkStoreCredentials,
  imsStoreRecord,
  manualIntegrationRecord,
} from '../activation/register-store.js';
import { checkImsTokenUrl, checkStoreUrl, outboundPolicyFor } from '../activation/store-url-policy.js';
import type { Config } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { DEFAULT_IMS_SCOPES } from '../magento/ims-token.js';
import { exchangeTokens } from '../magento/token-exchange.js';
import { DuplicateError, authModeOf, type IntegrationRecord, type Storage } from '../storage/types.js';
import { storeKindLabel } from '../activation/store-kind.js';
import { configOrExit } from './lifecycle.js';
import { openCliStorage, openStoreStorage } from './open-storage.js';
import { confirm, promptHidden, readStdinLines } from './prompt.js';
import { UsageError, usageErrorsExit2 } from './usage.js';
import { MAGENTO2_ENTITIES } from '../sync/magento2/channel.js';
import { SyncService } from '../sync/sync-service.js';
import {
  describeUnlink,
  syncedRecordCount,
  unlinkStore as unlinkStoreAndSync,
} from '../sync/unlink-store.js';
import { webhookKeyCommand } from './store-webhook-key.js';
import { painter } from './style.js';
import { matchesStore } from './pick-integration.js';

/** A one-line refusal: printed without a stack trace, exit code 1. */
class CliError extends Error {}

/**
 * Secrets the environment (or .env) does not hold, asked for without echo on a terminal, or read one
 * per line from piped stdin. Never options: argv is visible to every user in `ps`.
 */
async function readSecrets(wanted: { name: string; env: string; value: string | undefined }[]) {
  const missing = wanted.filter((w) => !w.value);
  if (missing.length > 0) {
    const answers = process.stdin.isTTY
      ? await promptHidden(missing.map((m) => `${m.name}: `))
      : await readStdinLines(missing.length);
    if (answers.length < missing.length) {
      throw new CliError(
        `Missing ${missing.map((m) => `${m.name} (${m.env})`).join(', ')}: set ${missing.length > 1 ? 'them' : 'it'} in the environment or .env, ` +
          'pipe one per line on stdin, or run in a terminal to be asked.',
      );
    }
    missing.forEach((m, i) => (m.value = answers[i]?.trim()));
  }
  return wanted.map((w) => w.value ?? '');
}

async function userIdFor(storage: Storage, email: string | undefined): Promise<string | undefined> {
  if (email === undefined) return undefined;
  const user = await storage.users.getByEmail(email);
  if (!user)
    throw new CliError(`No user ${email}; add one with npm run user -- add ${email}, or leave out --user.`);
  return user.id;
}

/** Checks, stores and reports a record built by `build` (which may refuse the input). */
async function register(
  config: Config,
  build: (storage: Storage) => Promise<IntegrationRecord>,
  options: { check: boolean; replace?: boolean },
): Promise<void> {
  const storage = await openCliStorage(config);
  try {
    const record = await build(storage);
    const policy = { allowlist: config.STORE_URL_ALLOWLIST, production: config.NODE_ENV === 'production' };
    const refused =
      (await checkStoreUrl(record.storeBaseUrl, policy)) ??
      (record.ims ? await checkImsTokenUrl(record.ims.tokenUrl, policy) : null);
    if (refused) throw new CliError(refused);
    if (options.check) {
      // The connector's own rules for whom it calls (in production: public addresses only).
      const check = await checkStoreCredentials(record, { outbound: outboundPolicyFor(policy) });
      if (!check.ok)
        throw new CliError(`${check.message}\nNothing was stored (--no-check stores without this call).`);
      console.error(`Credentials work: ${check.detail}`);
    }
    const activation = new ActivationService({
      integrations: storage.integrations,
      notices: storage.notices,
      exchange: exchangeTokens,
      signatureMethod: config.MAGENTO_SIGNATURE_METHOD,
      logger: createLogger({ level: 'warn', name: 'store', toStderr: true }),
    });
    try {
      await activation.registerActive(record, { replace: options.replace === true });
    } catch (error) {
      if (error instanceof LiveIntegrationExistsError) {
        throw new CliError(
          `${error.message} Nothing was stored. Pass --replace to replace it, or remove it first ` +
            `(npm run store -- unlink ${error.live.consumerKey}).`,
        );
      }
      if (error instanceof DuplicateError) {
        throw new CliError(
          `Consumer key ${record.consumerKey} is registered already; remove it first (npm run store -- unlink ${record.consumerKey}).`,
        );
      }
      throw error;
    }
    console.log(
      `Registered ${storeKindLabel(record)} ${record.storeBaseUrl} as ${record.consumerKey} (${authModeOf(record)}). ` +
        'The connector syncs it on its next schedule tick; the dashboard shows it.',
    );
  } finally {
    await storage.close();
  }
}

async function addSaas(opts: {
  url: string;
  clientId?: string;
  imsUrl?: string;
  scopes?: string;
  user?: string;
  check: boolean;
  replace?: boolean;
}): Promise<void> {
  const config = configOrExit();
  const clientId = opts.clientId ?? config.IMS_CLIENT_ID;
  if (!clientId)
    throw new CliError(
      "Give --client-id (or set IMS_CLIENT_ID): the OAuth Server-to-Server credential's client ID.",
    );
  const [clientSecret = ''] = await readSecrets([
    { name: 'IMS client secret', env: 'IMS_CLIENT_SECRET', value: config.IMS_CLIENT_SECRET },
  ]);
  await register(
    config,
    async (storage) =>
      imsStoreRecord(
        {
          restBaseUrl: opts.url,
          clientId,
          clientSecret,
          scopes: opts.scopes ?? config.IMS_SCOPES ?? DEFAULT_IMS_SCOPES,
          tokenUrl: opts.imsUrl ?? config.IMS_TOKEN_URL,
          userId: await userIdFor(storage, opts.user),
        },
        new Date().toISOString(),
      ),
    opts,
  );
}

async function addManual(opts: {
  url?: string;
  consumerKey?: string;
  user?: string;
  check: boolean;
  replace?: boolean;
}) {
  const config = configOrExit();
  const url = opts.url ?? config.COMMERCE_BASE_URL;
  const consumerKey = opts.consumerKey ?? config.COMMERCE_CONSUMER_KEY;
  if (!url)
    throw new CliError(
      'Give --url (or set COMMERCE_BASE_URL): the store base URL, e.g. https://shop.example.com/.',
    );
  if (!consumerKey)
    throw new CliError('Give --consumer-key (or set COMMERCE_CONSUMER_KEY), as the store admin shows it.');
  const [consumerSecret = '', accessToken = '', accessTokenSecret = ''] = await readSecrets([
    { name: 'Consumer secret', env: 'COMMERCE_CONSUMER_SECRET', value: config.COMMERCE_CONSUMER_SECRET },
    { name: 'Access token', env: 'COMMERCE_ACCESS_TOKEN', value: config.COMMERCE_ACCESS_TOKEN },
    {
      name: 'Access token secret',
      env: 'COMMERCE_ACCESS_TOKEN_SECRET',
      value: config.COMMERCE_ACCESS_TOKEN_SECRET,
    },
  ]);
  await register(
    config,
    async (storage) =>
      manualIntegrationRecord(
        {
          storeBaseUrl: url,
          consumerKey,
          consumerSecret,
          accessToken,
          accessTokenSecret,
          signatureMethod: config.MAGENTO_SIGNATURE_METHOD,
          userId: await userIdFor(storage, opts.user),
        },
        new Date().toISOString(),
      ),
    opts,
  );
}

async function listStores(opts: { json: boolean }): Promise<void> {
  const config = configOrExit();
  const storage = await openStoreStorage(config);
  try {
    const records = await storage.integrations.list({ secrets: false });
    const rows = records.map((r) => ({
      key: r.consumerKey,
      kind: storeKindLabel(r),
      auth: authModeOf(r),
      registration: r.registration ?? 'handshake',
      status: r.status,
      store: r.storeBaseUrl,
      ...(r.ims ? { imsClientId: r.ims.clientId } : {}),
    }));
    if (opts.json) console.log(JSON.stringify(rows, null, 2));
    else if (rows.length === 0)
      console.log('No stores yet: activate an integration, or npm run store -- add-saas / add-manual.');
    else {
      const paint = painter(process.stdout);
      const status = (s: string) =>
        paint(s === 'active' ? 'green' : s === 'failed' || s === 'needs_reauth' ? 'red' : 'yellow', s);
      for (const r of rows)
        console.log(`${r.key}  ${status(r.status)}  ${r.auth} (${r.registration})  ${r.kind}  ${r.store}`);
    }
  } finally {
    await storage.close();
  }
}

async function unlinkStore(wanted: string, opts: { yes?: boolean }): Promise<void> {
  const config = configOrExit();
  const storage = await openCliStorage(config);
  try {
    const records = await storage.integrations.list({ secrets: false });
    const matches = records.filter((r) => matchesStore(r, wanted));
    const list = records.map((r) => `  ${r.consumerKey}  ${r.storeBaseUrl}  (${r.status})`).join('\n');
    if (matches.length === 0)
      throw new UsageError(`No store matches ${wanted}. Stores:\n${list || '  (none)'}`);
    if (matches.length > 1)
      throw new UsageError(`Several records match ${wanted}; give the consumer key:\n${list}`);
    const record = matches[0]!;
    const count = await syncedRecordCount(storage.records, record.consumerKey, MAGENTO2_ENTITIES);
    const what =
      `${record.storeBaseUrl} (${record.consumerKey}, ${record.status}): its tokens, sync runs and ` +
      `${count} synced record${count === 1 ? '' : 's'} are deleted`;
    if (!opts.yes) {
      if (!process.stdin.isTTY)
        throw new UsageError(`Unlinking ${what}. Confirm with --yes (no terminal to ask on).`);
      if (!(await confirm(`Unlink ${what}. Go on?`))) {
        console.error('Nothing was changed.');
        return;
      }
    }
    const sync = new SyncService({
      storage,
      records: storage.records,
      entities: [...MAGENTO2_ENTITIES],
      logger: createLogger({ level: 'warn', name: 'store', toStderr: true }),
      transportFor: () => Promise.reject(new Error('Unlinking calls no store.')),
    });
    const report = await unlinkStoreAndSync({ storage, sync }, record.consumerKey);
    if (!report) throw new CliError(`${record.consumerKey} was removed meanwhile.`);
    for (const line of describeUnlink(report)) console.log(line);
  } finally {
    await storage.close();
  }
}

const REPLACE_HELP =
  "supersede the store's live integration (its tokens are erased); without it a store that has one is refused";

const program = new Command()
  .name('npm run store --')
  .description(
    "Connect stores without the activation handshake: Adobe Commerce as a Cloud Service (IMS), or a manual integration's credentials.",
  );

program
  .command('add-saas')
  .description(
    'an Adobe Commerce as a Cloud Service instance, through an OAuth Server-to-Server (IMS) credential',
  )
  .requiredOption(
    '--url <restBase>',
    'the instance REST base with its tenant id: https://<region>.api.commerce.adobe.com/<tenant-id>/',
  )
  .option('--client-id <id>', "the credential's client ID (default: IMS_CLIENT_ID)")
  .option('--ims-url <url>', "IMS token endpoint (default: IMS_TOKEN_URL, Adobe's)")
  .option(
    '--scopes <list>',
    `comma-separated scopes, with commerce.accs (default: IMS_SCOPES or ${DEFAULT_IMS_SCOPES})`,
  )
  .option('--user <email>', 'the connector user the store belongs to (default: admins only)')
  .addOption(new Option('--no-check', 'store without first getting a token and calling the store'))
  .option('--replace', REPLACE_HELP, false)
  .addHelpText(
    'after',
    `
The client secret comes from IMS_CLIENT_SECRET (environment or .env), piped stdin, or a prompt.

Example (the simulator in SaaS mode: npm run simulator -- --saas):
  IMS_CLIENT_SECRET=… npm run store -- add-saas --url http://127.0.0.1:3100/simtenant/ \\
    --client-id simulator-ims-client --ims-url http://127.0.0.1:3100/ims/token/v3`,
  )
  .action(addSaas);

program
  .command('add-manual')
  .description(
    'a Magento / Adobe Commerce (on-premises or Cloud PaaS) manual integration: its four credentials',
  )
  .option('--url <storeUrl>', 'the store base URL, without rest/ (default: COMMERCE_BASE_URL)')
  .option('--consumer-key <key>', "the integration's consumer key (default: COMMERCE_CONSUMER_KEY)")
  .option('--user <email>', 'the connector user the store belongs to (default: admins only)')
  .addOption(new Option('--no-check', 'store without first making a signed call'))
  .option('--replace', REPLACE_HELP, false)
  .addHelpText(
    'after',
    `
The consumer secret, access token and access token secret come from COMMERCE_CONSUMER_SECRET,
COMMERCE_ACCESS_TOKEN and COMMERCE_ACCESS_TOKEN_SECRET (environment or .env), piped stdin (one per
line, in that order) or prompts. In the store admin: System > Extensions > Integrations, an
integration without a Callback URL, Activate > Allow shows all four.`,
  )
  .action(addManual);

program
  .command('list')
  .description('every store: key, status, auth mode, how it was registered, kind and URL (no secrets)')
  .option('--json', 'as JSON', false)
  .action(listStores);

program
  .command('unlink')
  .alias('remove')
  .description(
    "forget a store: stops its sync, deletes its tokens, sync runs and synced records (asks first), and says what to do in the store's admin",
  )
  .argument('<keyOrUrl>', 'the store key (consumer key) or store URL, from list')
  .option('--yes', 'do not ask (scripts; needed when stdin is not a terminal)')
  .action(unlinkStore);

program.addCommand(webhookKeyCommand());

try {
  await usageErrorsExit2(program).parseAsync();
} catch (error) {
  const known =
    error instanceof CliError || error instanceof RegistrationError || error instanceof UsageError;
  console.error(known ? error.message : `Error: ${(error as Error).message}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
