import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { logIn } from '../accounts/login.js';
import type { AccountService } from '../accounts/users.js';
import { AppError } from '../errors.js';
import type { IntegrationRecord, UserRecord } from '../storage/types.js';
import type { ActivationService } from './activation-service.js';

export type IdentityLinkErrorCode =
  | 'identity_link_invalid'
  | 'identity_link_unknown'
  | 'identity_link_not_handshake'
  | 'identity_redirect_refused'
  | 'identity_not_linked'
  | 'identity_linked_elsewhere';

/** The identity link cannot go on; the message says what the user can do. */
export class IdentityLinkError extends AppError {
  override name = 'IdentityLinkError';
  declare readonly code: IdentityLinkErrorCode;
  constructor(code: IdentityLinkErrorCode, message: string) {
    super(code, message);
  }
}

const linkParams = z.object({
  oauth_consumer_key: z
    .string({ message: 'The link has no oauth_consumer_key: open it from the store admin (Activate).' })
    .regex(/^[0-9a-z]{32}$/, 'oauth_consumer_key is not a Magento consumer key.'),
  success_call_back: z
    .string({ message: 'The link has no success_call_back: open it from the store admin (Activate).' })
    .max(2048)
    .pipe(z.url({ protocol: /^https?$/, message: 'success_call_back must be an http(s) URL.' })),
});

/**
 * The query of the identity link. Magento appends `?oauth_consumer_key=…` even when the link
 * already has a query (contract §2.1), so a second `?` is read as `&`.
 */
export function identityQuery(req: Request): Record<string, string> {
  const raw = req.originalUrl.split('?').slice(1).join('&');
  return Object.fromEntries(new URLSearchParams(raw));
}

export interface IdentityDeps {
  activation: ActivationService;
  accounts: AccountService;
  callbackWaitMs: number;
  loginLimiter: express.RequestHandler;
}

/**
 * The identity link: log in, tie the consumer key to the user, show the exchange's progress and
 * only then send the popup back to the store's success_call_back.
 */
export function identityRoutes(deps: IdentityDeps): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

  const load = async (input: Record<string, unknown>, waitMs: number) => {
    const parsed = linkParams.safeParse(input);
    if (!parsed.success)
      throw new IdentityLinkError(
        'identity_link_invalid',
        parsed.error.issues.map((i) => i.message).join(' '),
      );
    const { oauth_consumer_key: key, success_call_back: back } = parsed.data;
    const record = await deps.activation.waitForRecord(key, waitMs);
    if (!record) {
      throw new IdentityLinkError(
        'identity_link_unknown',
        'The store has not sent this integration’s credentials to the connector. Check that the integration’s ' +
          'Callback URL points at this connector’s /magento/callback, then click Activate again in the store admin.',
      );
    }
    // The link belongs to the activation handshake: a store the operator registered (npm run store) has
    // none, and its missing userId means "admins only", not "the first one to log in here".
    if (record.registration === 'manual' || record.registration === 'ims') {
      throw new IdentityLinkError(
        'identity_link_not_handshake',
        'This store was registered by the operator (npm run store), not activated from the store admin, so it ' +
          'has no identity link. An admin gives it to a user when registering it (--user).',
      );
    }
    // No open redirect: only back to the store that sent the credentials.
    if (new URL(back).origin !== record.storeOrigin) {
      throw new IdentityLinkError(
        'identity_redirect_refused',
        `success_call_back (${new URL(back).origin}) is not on the store that activated this integration (${record.storeOrigin}).`,
      );
    }
    return { key, back, record };
  };

  const render = (req: Request, res: Response, view: string, data: Record<string, unknown>, status = 200) => {
    res.status(status).render(view, { csrfToken: req.csrfToken?.(), user: res.locals.user, ...data });
  };

  router.get('/magento/identity', async (req, res) => {
    const { key, back, record } = await load(identityQuery(req), deps.callbackWaitMs);
    const user = res.locals.user as UserRecord | undefined;
    // Refused before the form, so the user is not asked to confirm what cannot happen.
    if (user && !mayLink(user, record)) throw linkedElsewhere(record);
    allowFormRedirectTo(res, record.storeOrigin);
    render(req, res, 'identity-login', { key, back, store: record.storeOrigin, error: null });
  });

  router.post('/magento/identity', deps.loginLimiter, form, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { key, back, record } = await load(body, 0);
    let user = res.locals.user as UserRecord | undefined;
    if (!user) {
      user =
        (await deps.accounts.authenticate(String(body.email ?? ''), String(body.password ?? ''))) ??
        undefined;
      if (!user) {
        render(
          req,
          res,
          'identity-login',
          { key, back, store: record.storeOrigin, error: 'Email or password is wrong.' },
          401,
        );
        return;
      }
      // Refused before logging in: a login that links nothing leaves no session behind.
      if (!mayLink(user, record)) throw linkedElsewhere(record);
      await logIn(req, user.id);
    }
    if (!mayLink(user, record)) throw linkedElsewhere(record);
    // An admin re-linking someone's store keeps it theirs; a fresh store becomes this user's.
    await deps.activation.linkUser(key, record.userId ?? user.id);
    res.redirect(303, progressUrl(key, back));
  });

  router.get('/magento/identity/progress', async (req, res) => {
    const { key, back, record } = await load(req.query as Record<string, unknown>, 0);
    const user = res.locals.user as UserRecord | undefined;
    if (!user || !record.userId || !mayLink(user, record)) {
      throw new IdentityLinkError(
        'identity_not_linked',
        'Log in through the identity link to follow this activation.',
      );
    }
    if (record.status === 'active') {
      await deps.activation.recordSuccessRedirect(key);
      res.redirect(303, back);
      return;
    }
    const finished =
      record.status === 'failed' || record.status === 'needs_reauth' || record.status === 'superseded';
    res.set('Cache-Control', 'no-store');
    res.render('identity-progress', {
      record: view(record),
      back,
      finished,
      refreshUrl: progressUrl(key, back),
      user: res.locals.user,
    });
  });

  return router;
}

/**
 * A handshake's store no one linked yet may be linked by anyone who logs in (the exchange often ends
 * before the popup's login); a linked one by its user or an admin.
 */
function mayLink(user: UserRecord, record: IntegrationRecord): boolean {
  return !record.userId || record.userId === user.id || user.role === 'admin';
}

function linkedElsewhere(record: IntegrationRecord): IdentityLinkError {
  return new IdentityLinkError(
    'identity_linked_elsewhere',
    `The store ${record.storeOrigin} is already linked to another user of this connector. Ask that user or an ` +
      'admin to complete this step, or log in as them.',
  );
}

/**
 * The login form's POST ends, through redirects, on the store's success_call_back; browsers apply
 * the page's CSP form-action to that whole chain, so this page allows the store's origin too.
 */
function allowFormRedirectTo(res: Response, origin: string): void {
  const csp = res.getHeader('Content-Security-Policy');
  if (typeof csp === 'string') {
    res.setHeader(
      'Content-Security-Policy',
      csp.replace("form-action 'self'", `form-action 'self' ${origin}`),
    );
  }
}

function progressUrl(key: string, back: string): string {
  return `/magento/identity/progress?${new URLSearchParams({ oauth_consumer_key: key, success_call_back: back })}`;
}

function view(record: IntegrationRecord) {
  return {
    store: record.storeOrigin,
    status: record.status,
    reason: record.statusReason,
    events: record.events.slice(-12),
  };
}
