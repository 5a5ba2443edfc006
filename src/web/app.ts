import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { AccountService } from '../accounts/users.js';
import type { ActivationService } from '../activation/activation-service.js';
import { callbackRoute } from '../activation/callback-route.js';
import { identityRoutes } from '../activation/identity-routes.js';
import { outboundPolicyFor, type StoreUrlPolicyOptions } from '../activation/store-url-policy.js';
import { defaultOutboundPolicy, setDefaultOutboundPolicy } from '../magento/outbound-guard.js';
import type { TrustProxySetting } from '../config/config.js';
import type { Storage } from '../storage/types.js';
import type { SyncService } from '../sync/sync-service.js';
import { webhookRoute } from '../sync/webhooks/webhook-route.js';
import type { WebhookService } from '../sync/webhooks/webhook-service.js';
import { csrfProtection } from './csrf.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { errorHandler } from './http-error.js';
import { moduleRoutes } from './module-routes.js';
import { sessionMiddleware } from './session.js';

/** How long /healthz waits for storage before it answers 503. */
const HEALTH_TIMEOUT_MS = 3000;

export const VIEWS_DIR = path.resolve(import.meta.dirname, '../../views');

export interface AppDeps {
  storage: Storage;
  sync: SyncService;
  webhooks: WebhookService;
  accounts: AccountService;
  activation: ActivationService;
  logger: Logger;
  policy: StoreUrlPolicyOptions;
  sessionSecret: string;
  production: boolean;
  /** Express `trust proxy`: decides req.ip, which every per-client limit counts by. */
  trustProxy?: TrustProxySetting;
  callbackWaitMs: number;
  loginRateLimit: number;
  /** Where stores reach the connector (known once the server listens). */
  publicUrl: () => string;
  defaultEmail: string;
}

/** Builds the connector's express app from explicit dependencies; nothing global. */
export function createApp(deps: AppDeps): { app: Express; close: () => void } {
  // Calls to stores made without an explicit policy (token exchange, REST client) check each
  // connection's address against the same policy as the callback: in production, public only.
  const previousOutbound = defaultOutboundPolicy();
  if (deps.production) setDefaultOutboundPolicy(outboundPolicyFor(deps.policy));
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.set('view engine', 'ejs');
  app.set('views', VIEWS_DIR);

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          // Local demos run on plain http; production sits behind https.
          'upgrade-insecure-requests': deps.production ? [] : null,
        },
      },
      strictTransportSecurity: deps.production,
    }),
  );
  app.use('/static', express.static(path.join(VIEWS_DIR, 'static'), { index: false, maxAge: '1h' }));
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  // For load balancers: 503 while storage does not answer, so traffic goes to a healthy instance.
  app.get('/healthz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    const kind = deps.storage.kind;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })),
        HEALTH_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([deps.storage.ping(), timedOut]);
      res.json({ status: 'ok', storage: kind });
    } catch (error) {
      deps.logger.warn({ err: error }, 'health check: storage does not answer');
      // The code only: this answer is public, and a driver's message can name hosts and users.
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === 'TIMEOUT'
          ? `${kind} storage did not answer within ${HEALTH_TIMEOUT_MS / 1000} s`
          : `${kind} storage does not answer${code ? ` (${code})` : ''}; the server log has the details`;
      res.status(503).json({ status: 'unavailable', storage: kind, reason });
    } finally {
      clearTimeout(timer);
    }
  });

  // Server-to-server: no cookies, no session, no CSRF token.
  app.use(callbackRoute({ activation: deps.activation, policy: deps.policy, logger: deps.logger }));
  app.use(
    webhookRoute({ integrations: deps.storage.integrations, webhooks: deps.webhooks, logger: deps.logger }),
  );

  const { middleware: sessions } = sessionMiddleware({
    secret: deps.sessionSecret,
    store: deps.storage.sessionStore(),
    production: deps.production,
  });
  app.use(cookieParser());
  app.use(sessions);
  app.use(async (req, res, next) => {
    res.locals.user = req.session.userId ? await deps.storage.users.getById(req.session.userId) : undefined;
    next();
  });
  app.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));
  const csrf = csrfProtection(deps.sessionSecret, deps.production);
  app.use(csrf.doubleCsrfProtection);

  const loginLimiter = rateLimit({
    windowMs: 15 * 60_000,
    limit: deps.loginRateLimit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Only failed attempts count, so a user who logs in and out is never locked out.
    skipSuccessfulRequests: true,
    handler: (_req, res) => {
      res.status(429).render('error', {
        title: 'Too many attempts',
        message: 'Too many failed logins from this address. Wait 15 minutes and try again.',
        status: 429,
        user: undefined,
      });
    },
  });

  app.use(
    identityRoutes({
      activation: deps.activation,
      accounts: deps.accounts,
      callbackWaitMs: deps.callbackWaitMs,
      loginLimiter,
    }),
  );
  app.use(
    dashboardRoutes({
      storage: deps.storage,
      accounts: deps.accounts,
      activation: deps.activation,
      sync: deps.sync,
      loginLimiter,
    }),
  );
  app.use(
    moduleRoutes({ publicUrl: deps.publicUrl, production: deps.production, defaultEmail: deps.defaultEmail }),
  );
  app.use((_req, res) => {
    res.status(404).render('error', {
      title: 'Not found',
      message: 'There is no page here.',
      status: 404,
      user: res.locals.user,
    });
  });
  app.use(errorHandler(deps.logger));
  return { app, close: () => setDefaultOutboundPolicy(previousOutbound) };
}
