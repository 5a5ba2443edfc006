import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AccountService } from '../accounts/users.js';
import type { ActivationService } from '../activation/activation-service.js';
import { checkConnection } from '../activation/connection-check.js';
import type { IntegrationRecord, Storage } from '../storage/types.js';
import { HttpError } from './http-error.js';
import { logIn, logOut } from './login.js';

/** Only local paths after login: `next` comes from the query string, so no open redirect. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

function requireApiLogin(req: Request, res: Response, next: NextFunction): void {
  if (req.session.userId) return next();
  res.status(401).json({ error: 'Log in first.' });
}

export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (req.session.userId) return next();
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
}

/** Login, logout and the list of linked stores. */
export function dashboardRoutes(deps: {
  storage: Storage;
  activation: ActivationService;
  accounts: AccountService;
  loginLimiter: express.RequestHandler;
}): Router {
  const router = express.Router();

  router.get('/login', (req, res) => {
    req.session.anonymous = true;
    res.render('login', {
      csrfToken: req.csrfToken?.(),
      next: safeNext(req.query.next),
      error: null,
      user: res.locals.user,
    });
  });

  router.post('/login', deps.loginLimiter, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const user = await deps.accounts.authenticate(String(body.email ?? ''), String(body.password ?? ''));
    if (!user) {
      res.status(401).render('login', {
        csrfToken: req.csrfToken?.(),
        next: safeNext(body.next),
        error: 'Email or password is wrong.',
        user: undefined,
      });
      return;
    }
    await logIn(req, user.id);
    res.redirect(303, safeNext(body.next));
  });

  router.post('/logout', async (req, res) => {
    await logOut(req);
    res.redirect(303, '/login');
  });

  const views = async () => {
    const [records, users] = await Promise.all([deps.storage.integrations.list(), deps.storage.users.list()]);
    const emails = new Map(users.map((u) => [u.id, u.email]));
    return records
      .sort((x, y) => y.createdAt.localeCompare(x.createdAt))
      .map((r) => integrationView(r, r.userId ? emails.get(r.userId) : undefined));
  };

  router.get('/', requireLogin, async (req, res) => {
    res.render('dashboard', {
      user: res.locals.user,
      csrfToken: req.csrfToken?.(),
      integrations: await views(),
    });
  });

  // Polled by the dashboard's script for live status; the page itself works without it.
  router.get('/api/integrations', requireApiLogin, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ integrations: await views() });
  });

  router.post('/integrations/:key/check', requireLogin, async (req, res) => {
    const key = String(req.params.key);
    const record = /^[0-9a-z]{32}$/.test(key) ? await deps.storage.integrations.get(key) : undefined;
    if (!record) throw new HttpError(404, 'There is no linked store with that consumer key.', 'Not found');
    const check = await checkConnection(record, {
      activation: deps.activation,
      integrations: deps.storage.integrations,
    });
    if (req.accepts(['html', 'json']) === 'json') res.json(check);
    else res.redirect(303, `/#store-${key}`);
  });

  return router;
}

const STATUS_LABELS: Record<IntegrationRecord['status'], string> = {
  pending: 'waiting',
  exchanging: 'exchanging',
  active: 'active',
  failed: 'failed',
  needs_reauth: 'needs reauthorization',
  superseded: 'replaced (reset)',
};

/** What the dashboard shows of a record: never a secret. */
export function integrationView(r: IntegrationRecord, linkedBy: string | undefined) {
  return {
    consumerKey: r.consumerKey,
    store: r.storeOrigin,
    storeBaseUrl: r.storeBaseUrl,
    status: r.status,
    statusLabel: STATUS_LABELS[r.status],
    reason: r.statusReason ?? null,
    activatedAt: r.activatedAt ?? null,
    linkedAt: r.linkedAt ?? null,
    linkedBy: linkedBy ?? null,
    canCheck: r.status === 'active' || r.status === 'needs_reauth',
    lastCheck: r.lastCheck ?? null,
    events: r.events.slice(-20),
    history: r.history,
  };
}
