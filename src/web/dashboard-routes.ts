import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AccountService } from '../accounts/users.js';
import type { ActivationService } from '../activation/activation-service.js';
import { checkConnection } from '../activation/connection-check.js';
import { registrationLabel, storeKindLabel } from '../activation/store-kind.js';
import {
  authModeOf,
  type IntegrationRecord,
  type IntegrationStatus,
  type Storage,
  type UserRecord,
} from '../storage/types.js';
import type { Alert, SyncJob, SyncRun, SyncService } from '../sync/sync-service.js';
import { setWebhookSettings } from '../sync/webhooks/webhook-settings.js';
import { describeUnlink, storeAdminSteps, syncedRecordCount, unlinkStore } from '../sync/unlink-store.js';
import { HttpError } from './http-error.js';
import { logIn, logOut } from '../accounts/login.js';

/** Only local paths after login: `next` comes from the query string, so no open redirect. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

/** The logged-in user, loaded per request; undefined once the user is removed, which ends their sessions. */
export function currentUser(res: Response): UserRecord | undefined {
  return res.locals.user as UserRecord | undefined;
}

export const isAdmin = (user: UserRecord | undefined): boolean => user?.role === 'admin';

/** A store is its linking user's; an admin operates all. */
export function canOperate(user: UserRecord, record: IntegrationRecord): boolean {
  return isAdmin(user) || (record.userId !== undefined && record.userId === user.id);
}

function requireApiLogin(_req: Request, res: Response, next: NextFunction): void {
  if (currentUser(res)) return next();
  res.status(401).json({ error: 'Log in first.' });
}

export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (currentUser(res)) return next();
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
}

/**
 * Callbacks no one confirmed: the exchange never succeeded and no one logged in through the identity
 * link. Anyone can POST a callback, so these are shown to admins only, apart from the real stores.
 */
const UNCONFIRMED: readonly IntegrationStatus[] = ['pending', 'exchanging', 'failed'];
export const isUnconfirmed = (r: IntegrationRecord): boolean => !r.userId && UNCONFIRMED.includes(r.status);

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

  /** The records this user may see: their own, or every one for an admin. */
  const visible = (user: UserRecord) =>
    deps.storage.integrations.list(isAdmin(user) ? {} : { userId: user.id });

  const views = async (user: UserRecord) => {
    const [records, users, runs, jobs, alerts] = await Promise.all([
      visible(user),
      deps.storage.users.list(),
      deps.sync.listRuns(),
      deps.sync.listJobs(),
      deps.sync.alerts(),
    ]);
    const emails = new Map(users.map((u) => [u.id, u.email]));
    const sorted = records.sort((x, y) => y.createdAt.localeCompare(x.createdAt));
    return {
      integrations: sorted
        .filter((r) => !isUnconfirmed(r))
        .map((r) => ({
          ...integrationView(r, r.userId ? emails.get(r.userId) : undefined),
          sync: syncView(deps.sync.entities, r.consumerKey, runs, jobs, alerts),
        })),
      // Only an admin's list can hold these: a user's list has only stores they linked.
      unconfirmed: sorted.filter(isUnconfirmed).map(unconfirmedView),
    };
  };

  /** The record behind `:key` when this user may operate it; otherwise the same 404 as an unknown key. */
  const operable = async (req: Request, res: Response): Promise<IntegrationRecord> => {
    const key = String(req.params.key);
    const user = currentUser(res);
    const record = /^[0-9a-z]{32}$/.test(key) ? await deps.storage.integrations.get(key) : undefined;
    // 404, not 403: another user's consumer key is not confirmed to exist.
    if (!record || !user || !canOperate(user, record))
      throw new HttpError(404, 'There is no linked store with that consumer key.', 'Not found');
    return record;
  };

  router.get('/', requireLogin, async (req, res) => {
    const user = currentUser(res)!;
    res.render('dashboard', {
      user,
      entities: deps.sync.entities,
      csrfToken: req.csrfToken?.(),
      ...(await views(user)),
    });
  });

  // Polled by the dashboard's script for live status; the page itself works without it.
  router.get('/api/integrations', requireApiLogin, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await views(currentUser(res)!));
  });

  router.get('/api/alerts', requireApiLogin, async (_req, res) => {
    const user = currentUser(res)!;
    const [alerts, records] = await Promise.all([deps.sync.alerts(), visible(user)]);
    const keys = new Set(records.map((r) => r.consumerKey));
    res.set('Cache-Control', 'no-store').json({ alerts: alerts.filter((a) => keys.has(a.storeKey)) });
  });

  router.post('/integrations/:key/sync', requireLogin, async (req, res) => {
    const record = await operable(req, res);
    const key = record.consumerKey;
    if (record.status !== 'active')
      throw new HttpError(409, `The store is ${record.status}, not active: activate it first.`, 'Not active');
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.deletions !== undefined && body.deletions !== '1')
      throw new HttpError(400, '"deletions" must be 1 (scan for deleted ids) or absent.', 'Bad request');
    const jobs = await deps.sync.enqueueStore(key, { scanDeletions: body.deletions === '1' });
    if (req.accepts(['html', 'json']) === 'json') res.status(202).json({ jobs });
    else res.redirect(303, `/#store-${key}`);
  });

  // Per-store schedule: a number of seconds per entity; empty means the default, 0 means off.
  router.post('/integrations/:key/sync-intervals', requireLogin, async (req, res) => {
    const key = (await operable(req, res)).consumerKey;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const intervals: Record<string, number> = {};
    for (const entity of deps.sync.entities) {
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

  // The store's Commerce webhook public key (not a secret), pasted from its admin; `clear` removes it.
  router.post('/integrations/:key/webhook-key', requireLogin, async (req, res) => {
    const key = (await operable(req, res)).consumerKey;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const clear = body.clear !== undefined;
    const pem = clear ? '' : String(body.commerce_public_key ?? '').trim();
    if (!pem && !clear)
      throw new HttpError(
        400,
        'Paste the public key from the store (Stores > Configuration > Adobe Services > Webhooks).',
      );
    const settings = await setWebhookSettings(deps.storage.integrations, key, {
      commercePublicKey: pem ? pem : null,
    });
    if (req.accepts(['html', 'json']) === 'json')
      res.json({ commerceKey: Boolean(settings?.commercePublicKey) });
    else res.redirect(303, `/#store-${key}`);
  });

  // Unlinking deletes data: a page that says what goes, whose form (with its CSRF token) confirms.
  router.get('/integrations/:key/unlink', requireLogin, async (req, res) => {
    const record = await operable(req, res);
    res.render('unlink', {
      user: currentUser(res),
      csrfToken: req.csrfToken?.(),
      store: { storeBaseUrl: record.storeBaseUrl, consumerKey: record.consumerKey },
      records: await syncedRecordCount(deps.storage.records, record.consumerKey, deps.sync.entities),
      steps: storeAdminSteps(record),
      report: null,
      lines: [],
    });
  });

  router.post('/integrations/:key/unlink', requireLogin, async (req, res) => {
    const record = await operable(req, res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.confirm !== 'unlink')
      throw new HttpError(
        400,
        '"confirm" must be "unlink": confirm on the store’s unlink page.',
        'Bad request',
      );
    const report = await unlinkStore(deps, record.consumerKey);
    if (!report) throw new HttpError(404, 'There is no linked store with that consumer key.', 'Not found');
    if (req.accepts(['html', 'json']) === 'json') {
      res.json(report);
      return;
    }
    res.render('unlink', {
      user: currentUser(res),
      csrfToken: req.csrfToken?.(),
      store: { storeBaseUrl: record.storeBaseUrl, consumerKey: record.consumerKey },
      records: report.records,
      steps: report.storeAdminSteps,
      report,
      lines: describeUnlink(report),
    });
  });

  router.post('/integrations/:key/check', requireLogin, async (req, res) => {
    const record = await operable(req, res);
    const key = record.consumerKey;
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
    kind: storeKindLabel(r),
    auth: authModeOf(r),
    registration: registrationLabel(r),
    imsClientId: r.ims?.clientId ?? null,
    status: r.status,
    statusLabel: STATUS_LABELS[r.status],
    reason: r.statusReason ?? null,
    activatedAt: r.activatedAt ?? null,
    linkedAt: r.linkedAt ?? null,
    linkedBy: linkedBy ?? null,
    canCheck: r.status === 'active' || r.status === 'needs_reauth',
    syncIntervals: r.syncIntervals ?? {},
    // Whether deliveries can be verified; the keys themselves are in the store's admin.
    webhooks: {
      path: `/magento/webhooks/${r.consumerKey}`,
      commerceKey: Boolean(r.webhooks?.commercePublicKey),
      ioEventsClientId: r.webhooks?.ioEvents?.clientId ?? null,
    },
    lastCheck: r.lastCheck ?? null,
    events: r.events.slice(-20),
    history: r.history,
  };
}

/** An unconfirmed callback: enough to recognise it, nothing to operate. */
function unconfirmedView(r: IntegrationRecord) {
  return {
    consumerKey: r.consumerKey,
    store: r.storeOrigin,
    status: r.status,
    statusLabel: STATUS_LABELS[r.status],
    reason: r.statusReason ?? null,
    receivedAt: r.receivedAt,
    callbackCount: r.callbackCount,
  };
}

/** A queued or running job: `running (initial, 1200 of 5000 read)` once the store said how many rows. */
export function jobView(job: SyncJob) {
  const read = job.checkpoint?.counts.read ?? 0;
  const total = job.checkpoint?.total ?? null;
  const mode = job.mode === 'full' ? 'full scan' : job.mode;
  const progress = job.scan
    ? 'scanning for deletions'
    : total === null
      ? `${read} read`
      : `${read} of ${Math.max(total, read)} read`;
  return { status: job.status, mode: job.mode, read, total, label: `${job.status} (${mode}, ${progress})` };
}

/** Per entity: the last run, a queued or running job, and an open alert. */
function syncView(
  entities: readonly string[],
  storeKey: string,
  runs: SyncRun[],
  jobs: SyncJob[],
  alerts: Alert[],
) {
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
            // Runs recorded before deletion scans have no `deleted`.
            counts: { ...last.counts, deleted: last.counts.deleted ?? 0 },
            error: last.error ?? null,
            // The store did not grant the resource: shown as such, not as a failure.
            notGranted: last.notGranted === true,
          }
        : null,
      job: job ? jobView(job) : null,
      alert: alert
        ? { message: alert.message, count: alert.count, firstSeen: alert.firstSeen, lastSeen: alert.lastSeen }
        : null,
    };
  });
}
