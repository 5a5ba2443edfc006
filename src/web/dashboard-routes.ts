import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AccountService } from '../accounts/users.js';
import type { Storage } from '../storage/types.js';
import { logIn, logOut } from './login.js';

/** Only local paths after login: `next` comes from the query string, so no open redirect. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (req.session.userId) return next();
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
}

/** Login, logout and the list of linked stores. */
export function dashboardRoutes(deps: {
  storage: Storage;
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

  router.get('/', requireLogin, async (_req, res) => {
    const integrations = (await deps.storage.integrations.list()).sort((a, b) =>
      b.createdAt.localeCompare(a.createdAt),
    );
    res.render('dashboard', {
      user: res.locals.user,
      integrations: integrations.map((r) => ({
        consumerKey: r.consumerKey,
        store: r.storeOrigin,
        status: r.status,
        reason: r.statusReason,
        activatedAt: r.activatedAt,
        linkedAt: r.linkedAt,
        events: r.events.slice(-8),
      })),
    });
  });

  return router;
}
