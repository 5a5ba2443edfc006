import path from 'node:path';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { MagentoVersion } from '../config/config.js';
import { adminApi } from './admin/api.js';
import { adminUi } from './admin/ui.js';
import { Catalog } from './catalog/catalog.js';
import { generateCatalog } from './catalog/generate.js';
import { SimClock } from './clock.js';
import { Faults, type FaultRuleInput } from './faults.js';
import { ImsService, imsTokenRoutes } from './ims/ims.js';
import { IntegrationService } from './integrations.js';
import type { SignatureProfile } from './oauth/profile.js';
import { OauthProvider } from './oauth/provider.js';
import { restRoutes } from './rest/router.js';
import { SimulatorSettings } from './settings.js';
import { SimulatorState } from './state.js';
import { tokenRoutes } from './token-routes.js';
import { WebhookSender } from './webhooks/webhook-sender.js';

export interface SimulatorOptions {
  magentoVersion?: MagentoVersion;
  signature?: Partial<SignatureProfile>;
  bearer?: boolean;
  seed?: number;
  products?: number;
  customers?: number;
  orders?: number;
  customerGroups?: number;
  categories?: number;
  /** MSI sources: every product has a source item in "default", about half in each other one. */
  sources?: number;
  consumerExpirySeconds?: number;
  callbackTimeoutMs?: number;
  /** store_base_url sent to integrators; derived from the listening address when absent. */
  baseUrl?: string;
  adminToken?: string;
  faults?: FaultRuleInput[];
  /** Source of randomness for fault injection (a seeded one makes runs repeatable). */
  random?: () => number;
  logger?: Logger;
  /**
   * Adobe Commerce as a Cloud Service: REST under `/<tenant-id>/V1/...` with IMS Bearer tokens only;
   * no `/rest/`, no OAuth token endpoints, and integrations cannot be activated.
   */
  saas?: { tenantId: string };
  /** Lifetime of IMS tokens (default 86,400 s, as Adobe's). */
  imsTokenSeconds?: number;
  /** IMS clients registered at start (the credential an operator copies from the Developer Console). */
  imsClients?: { clientId: string; clientSecret: string }[];
}

/** Path segments a tenant id cannot be: the simulator's own routes live there. */
export const RESERVED_TENANT_IDS = ['rest', 'oauth', 'ims', 'admin', 'static'];
export const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/;

export interface Simulator {
  app: Express;
  state: SimulatorState;
  catalog: Catalog;
  integrations: IntegrationService;
  faults: Faults;
  settings: SimulatorSettings;
  clock: SimClock;
  /** Signed webhooks on catalog changes (key pair, subscriptions, faults). */
  webhooks: WebhookSender;
  ims: ImsService;
  /** The tenant id in SaaS mode. */
  tenantId?: string;
  /** The store base URL with its trailing slash, as Magento sends it. */
  baseUrl: () => string;
  setBaseUrl: (url: string) => void;
}

export const VIEWS_DIR = path.resolve(import.meta.dirname, '../../views');

/** Builds the simulator from explicit options; nothing global, so tests can run several at once. */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const tenantId = options.saas?.tenantId;
  if (
    tenantId !== undefined &&
    (!TENANT_ID.test(tenantId) || RESERVED_TENANT_IDS.includes(tenantId.toLowerCase()))
  ) {
    throw new RangeError(
      `Tenant id "${tenantId}" must be 3-64 letters, digits, - or _, and not one of ${RESERVED_TENANT_IDS.join(', ')}.`,
    );
  }
  const clock = new SimClock();
  const state = new SimulatorState(clock.now);
  const { logger } = options;
  if (logger) {
    state.onLog = (entry) =>
      entry.outcome === 'rejected'
        ? logger.warn(entry, 'OAuth request rejected')
        : logger.debug(entry, 'OAuth request verified');
  }
  const settings = new SimulatorSettings({
    magentoVersion: options.magentoVersion ?? '2.4.8',
    signature: options.signature,
    bearer: options.bearer ?? false,
    consumerExpirySeconds: options.consumerExpirySeconds ?? 300,
  });
  let baseUrl = withSlash(options.baseUrl ?? 'http://127.0.0.1:3100/');
  const getBaseUrl = () => baseUrl;
  const catalog = new Catalog(
    generateCatalog({
      seed: options.seed ?? 42,
      products: options.products ?? 200,
      customers: options.customers ?? 50,
      orders: options.orders ?? 100,
      customerGroups: options.customerGroups,
      categories: options.categories,
      sources: options.sources,
      now: clock.now(),
    }),
  );
  const integrations = new IntegrationService(state, {
    storeBaseUrl: getBaseUrl,
    callbackTimeoutMs: options.callbackTimeoutMs ?? 5000,
    saas: tenantId !== undefined,
  });
  const ims = new ImsService(clock.now, options.imsTokenSeconds);
  for (const c of options.imsClients ?? []) ims.register(c.clientId, c.clientSecret);
  const provider = new OauthProvider(state, settings);
  const faults = new Faults(options.random);
  if (options.faults) faults.set(options.faults);
  const webhooks = new WebhookSender(options.random);
  catalog.onChange((change) => webhooks.notify(change));

  const app = express();
  app.disable('x-powered-by');
  app.set('view engine', 'ejs');
  app.set('views', VIEWS_DIR);
  app.use(faults.middleware());
  app.use('/ims', imsTokenRoutes(ims));
  const restDeps = {
    state,
    provider,
    catalog,
    profile: () => settings.profile,
    bearerEnabled: () => settings.bearer,
    storeBaseUrl: getBaseUrl,
  };
  if (tenantId !== undefined) {
    // The Cloud Service has no integration tokens: neither the token endpoints nor /rest/ exist.
    app.use(['/oauth/token', '/rest'], (_req, res) => {
      res.status(404).json({
        message: `Adobe Commerce as a Cloud Service: integration (OAuth 1.0a) tokens are not supported; call /${tenantId}/V1/... with an IMS Bearer token.`,
      });
    });
    app.use(`/${tenantId}`, restRoutes({ ...restDeps, ims }));
  } else {
    app.use('/oauth/token', tokenRoutes({ state, provider, integrations, profile: () => settings.profile }));
    app.use('/rest', (req, res, next) => {
      if (!settings.restRedirectTo) return next();
      res.redirect(301, `${settings.restRedirectTo.replace(/\/+$/, '')}/rest${req.url}`);
    });
    app.use('/rest', restRoutes(restDeps));
  }
  app.use(
    '/admin/api',
    adminApi({
      state,
      integrations,
      catalog,
      faults,
      settings,
      clock,
      ims,
      webhooks,
      adminToken: options.adminToken,
    }),
  );
  app.use(adminUi({ state, integrations, settings, webhooks, baseUrl: getBaseUrl }));

  return {
    app,
    state,
    catalog,
    integrations,
    faults,
    settings,
    clock,
    webhooks,
    ims,
    tenantId,
    baseUrl: getBaseUrl,
    setBaseUrl: (url) => {
      baseUrl = withSlash(url);
    },
  };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
