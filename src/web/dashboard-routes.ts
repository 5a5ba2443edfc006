import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AccountService } from '../accounts/users.js';
import type { ActivationService } from '../activation/activation-service.js';
import { checkConnection } from '../activation/connection-check.js';
import type { IntegrationRecord, Storage } from '../storage/types.js';
import type { Alert, SyncJob, SyncRun, SyncService } from '../sync/sync-service.js';
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
  sync: SyncService;
  accounts: AccountService;
  loginLimiter: express.RequestHandler;
}): Router {
  const router = express.Router();

  router.get('/login', (req, res) => {
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
    const [records, users, runs, jobs, alerts] = await Promise.all([
      deps.storage.integrations.list(),
      deps.storage.users.list(),
      deps.sync.listRuns(),
      deps.sync.listJobs(),
      deps.sync.alerts(),
    ]);
    const emails = new Map(users.map((u) => [u.id, u.email]));
    return records
      .sort((x, y) => y.createdAt.localeCompare(x.createdAt))
      .map((r) => ({
        ...integrationView(r, r.userId ? emails.get(r.userId) : undefined),
        sync: syncView(r.consumerKey, runs, jobs, alerts),
      }));
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

  router.get('/api/alerts', requireApiLogin, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ alerts: await deps.sync.alerts() });
  });

  router.post('/integrations/:key/sync', requireLogin, async (req, res) => {
    const key = String(req.params.key);
    const record = /^[0-9a-z]{32}$/.test(key) ? await deps.storage.integrations.get(key) : undefined;
    if (!record) throw new HttpError(404, 'There is no linked store with that consumer key.', 'Not found');
    if (record.status !== 'active')
      throw new HttpError(409, `The store is ${record.status}, not active: activate it first.`, 'Not active');
    const jobs = await deps.sync.enqueueStore(key);
    if (req.accepts(['html', 'json']) === 'json') res.status(202).json({ jobs });
    else res.redirect(303, `/#store-${key}`);
  });

  // Per-store schedule: a number of seconds per entity; empty means the default, 0 means off.
  router.post('/integrations/:key/sync-intervals', requireLogin, async (req, res) => {
    const key = String(req.params.key);
    const record = /^[0-9a-z]{32}$/.test(key) ? await deps.storage.integrations.get(key) : undefined;
    if (!record) throw new HttpError(404, 'There is no linked store with that consumer key.', 'Not found');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const intervals: Record<string, number> = {};
    for (const entity of ['products', 'customers', 'orders']) {
      const raw = String(body[entity] ?? '').trim();
      if (raw === '') continue;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 7 * 86400) {
        throw new HttpError(
          400,
          `The ${entity} interval must be a whole number of seconds from 0 to 604800 (0 turns it off).`,
        );
      }
      intervals[entity] = n;
    }
    await deps.storage.integrations.update(key, (r) => ({ ...r, syncIntervals: intervals }));
    if (req.accepts(['html', 'json']) === 'json') res.json({ syncIntervals: intervals });
    else res.redirect(303, `/#store-${key}`);
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
    syncIntervals: r.syncIntervals ?? {},
    lastCheck: r.lastCheck ?? null,
    events: r.events.slice(-20),
    history: r.history,
  };
}

/** Per entity: the last run, a queued or running job, and an open alert. */
function syncView(storeKey: string, runs: SyncRun[], jobs: SyncJob[], alerts: Alert[]) {
  const entities = ['products', 'customers', 'orders'];
  return entities.map((entity) => {
    const last = runs.find((r) => r.storeKey === storeKey && r.entity === entity);
    const job = jobs.find(
      (j) =>
        j.storeKey === storeKey && j.entity === entity && (j.status === 'queued' || j.status === 'running'),
    );
    const alert = alerts.find((a) => a.storeKey === storeKey && a.entity === entity);
    return {
      entity,
      lastRun: last
        ? {
            finishedAt: last.finishedAt,
            ok: last.ok,
            mode: last.mode,
            counts: last.counts,
            error: last.error ?? null,
          }
        : null,
      job: job ? { status: job.status, mode: job.mode, read: job.checkpoint?.counts.read ?? 0 } : null,
      alert: alert
        ? { message: alert.message, count: alert.count, firstSeen: alert.firstSeen, lastSeen: alert.lastSeen }
        : null,
    };
  });
}
