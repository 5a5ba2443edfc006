/**
 * The composition root: the one place that builds the connector from its parts (config → storage →
 * accounts, activation, sync, webhooks → the express app) and starts it listening. Named main, not
 * connector, because the sync layer's connectors (one per entity, sync/magento2/) are another thing;
 * it is not run by itself: the CLIs (start, demo, contract, bench) and the tests call startConnector.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AccountService } from '../accounts/users.js';
import { ActivationService, type ExchangeFn } from '../activation/activation-service.js';
import type { Config } from '../config/config.js';
import { exchangeTokens } from '../magento/token-exchange.js';
import { openStorage } from '../storage/open.js';
import type { RecordStore } from '../storage/records.js';
import { MAGENTO2_ENTITIES, magentoTransport } from '../sync/magento2/channel.js';
import { SyncService } from '../sync/sync-service.js';
import { WebhookService, type AppliedBatch } from '../sync/webhooks/webhook-service.js';
import { clientForIntegration } from '../activation/store-client.js';
import type { Storage } from '../storage/types.js';
import { createApp } from '../web/app.js';
import { sessionSecret } from '../web/session.js';

export type ConnectorConfig = Pick<
  Config,
  | 'NODE_ENV'
  | 'HOST'
  | 'PORT'
  | 'PUBLIC_URL'
  | 'DATA_DIR'
  | 'DATABASE_URL'
  | 'TOKEN_ENCRYPTION_KEY'
  | 'SESSION_SECRET'
  | 'STORE_URL_ALLOWLIST'
  | 'TRUST_PROXY'
  | 'DEMO_USER_EMAIL'
  | 'DEMO_USER_PASSWORD'
  | 'MAGENTO_SIGNATURE_METHOD'
  | 'CALLBACK_WAIT_SECONDS'
  | 'LOGIN_RATE_LIMIT'
  | 'SYNC_INTERVALS'
  | 'SYNC_PAGE_SIZE'
  | 'DELETION_SCAN_SECONDS'
  | 'SHUTDOWN_GRACE_SECONDS'
  | 'SYNC_CONCURRENCY'
  | 'SYNC_SLICE_SECONDS'
  | 'JOB_EXPIRY_CHECK_SECONDS'
>;

export interface RunningConnector {
  url: string;
  publicUrl: string;
  server: Server;
  storage: Storage;
  activation: ActivationService;
  accounts: AccountService;
  sync: SyncService;
  webhooks: WebhookService;
  records: RecordStore;
  close: () => Promise<void>;
}

/** The default demo password in development; production has no default demo user. */
export const DEV_DEMO_PASSWORD = 'demo-password';

/** Wires config → storage → services → app and listens. Tests call it with a temp DATA_DIR and port 0. */
export async function startConnector(
  config: ConnectorConfig,
  logger: Logger,
  overrides: {
    exchange?: ExchangeFn;
    /** false: no background sync (a connector that only watches an activation). */
    sync?: boolean;
    /** Told after every batch of webhook changes is written (tests, the bench). */
    onWebhookApplied?: (batch: AppliedBatch) => void;
    /** Retries of a webhook job (tests that wait for the last one). */
    webhookRetries?: number;
  } = {},
): Promise<RunningConnector> {
  const production = config.NODE_ENV === 'production';
  const { storage, key } = await openStorage({
    dataDir: config.DATA_DIR,
    envKey: config.TOKEN_ENCRYPTION_KEY,
    production,
    logger,
    databaseUrl: config.DATABASE_URL,
    expiryCheckSeconds: config.JOB_EXPIRY_CHECK_SECONDS,
  });
  const accounts = new AccountService(storage.users);
  const demoPassword = config.DEMO_USER_PASSWORD ?? (production ? undefined : DEV_DEMO_PASSWORD);
  if (demoPassword) {
    const seeded = await accounts.ensureDemoUser(config.DEMO_USER_EMAIL, demoPassword);
    if (seeded === 'created') logger.info({ email: config.DEMO_USER_EMAIL }, 'demo user created');
  }
  const activation = new ActivationService({
    integrations: storage.integrations,
    notices: storage.notices,
    // The embedded default has one process running exchanges: at start it takes over every one left.
    soleWorker: storage.kind === 'embedded',
    exchange: overrides.exchange ?? exchangeTokens,
    signatureMethod: config.MAGENTO_SIGNATURE_METHOD,
    logger,
    // The first load starts as soon as the store is linked; the scheduler keeps it current.
    onActivated: (key) =>
      overrides.sync === false
        ? undefined
        : void sync
            .enqueueStore(key)
            .catch((error: unknown) => logger.warn({ err: error }, 'could not queue the first sync')),
  });
  let publicUrl = '';
  const { records } = storage;
  const transportFor = async (storeKey: string) => {
    const record = await storage.integrations.get(storeKey);
    if (!record) throw new Error(`No linked store with consumer key ${storeKey}.`);
    return magentoTransport(
      storeKey,
      clientForIntegration(record, { activation, integrations: storage.integrations }),
    );
  };
  const webhooks = new WebhookService({
    storage,
    records,
    transportFor,
    logger,
    ...(overrides.onWebhookApplied ? { onApplied: overrides.onWebhookApplied } : {}),
    ...(overrides.webhookRetries !== undefined ? { retryLimit: overrides.webhookRetries } : {}),
  });
  const sync = new SyncService({
    storage,
    records,
    entities: [...MAGENTO2_ENTITIES],
    intervals: config.SYNC_INTERVALS,
    pageSize: config.SYNC_PAGE_SIZE,
    deletionScanSeconds: config.DELETION_SCAN_SECONDS,
    concurrency: config.SYNC_CONCURRENCY,
    sliceSeconds: config.SYNC_SLICE_SECONDS,
    logger,
    transportFor,
  });
  const { app, close: closeApp } = createApp({
    sync,
    webhooks,
    publicUrl: () => publicUrl,
    defaultEmail: config.DEMO_USER_EMAIL,
    storage,
    accounts,
    activation,
    logger,
    policy: { allowlist: config.STORE_URL_ALLOWLIST, production },
    sessionSecret: sessionSecret(config.SESSION_SECRET, key),
    production,
    trustProxy: config.TRUST_PROXY,
    callbackWaitMs: config.CALLBACK_WAIT_SECONDS * 1000,
    loginRateLimit: config.LOGIN_RATE_LIMIT,
  });
  await activation.start();
  if (overrides.sync !== false) {
    await sync.start();
    await webhooks.start();
  }
  // Express 5 hands a listen error (EADDRINUSE) to this callback instead of emitting it.
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.PORT, config.HOST, (error?: Error) => (error ? reject(error) : resolve(s)));
  }).catch(async (error: unknown) => {
    // Nothing listens: stop what started so the caller is left with no timers or open storage.
    await activation.close(0).catch(() => undefined);
    await sync.stop().catch(() => undefined);
    await webhooks.stop().catch(() => undefined);
    closeApp();
    await storage.close().catch(() => undefined);
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  publicUrl = (config.PUBLIC_URL ?? url).replace(/\/+$/, '');
  return {
    url,
    publicUrl,
    server,
    storage,
    activation,
    accounts,
    sync,
    webhooks,
    records,
    // Stops taking requests, drains running exchanges (bounded), then the queue and storage.
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await activation.close(config.SHUTDOWN_GRACE_SECONDS * 1000);
      await sync.stop();
      await webhooks.stop();
      closeApp();
      server.closeAllConnections();
      await closed;
      await storage.close();
    },
  };
}
