import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { doubleCsrf } from 'csrf-csrf';
import type { Request } from 'express';

/**
 * CSRF tokens for every form (double-submit cookie). A logged-in request's token is bound to its session
 * id; an anonymous one's (the login forms) to a signed, httpOnly pre-session cookie, so showing a login
 * form stores nothing. The server-to-server callback is exempt: it carries no session and is checked
 * against the store instead.
 */
export function csrfProtection(secret: string, production: boolean) {
  const preSession = preSessionCookie(secret, production);
  return doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req: Request) =>
      req.session.userId ? `session:${req.session.id}` : `anonymous:${preSession.id(req)}`,
    cookieName: production ? '__Host-mic.csrf' : 'mic.csrf',
    cookieOptions: { sameSite: 'lax', secure: production, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req: Request) => {
      const body = req.body as Record<string, unknown> | undefined;
      return typeof body?._csrf === 'string' ? body._csrf : req.get('x-csrf-token');
    },
    skipCsrfProtection: (req: Request) => req.path === '/magento/callback',
  });
}

/**
 * A random id per browser, in a cookie signed with the CSRF secret; minted on first use. `__Host-` in
 * production, so a sibling subdomain cannot plant one.
 */
function preSessionCookie(secret: string, production: boolean) {
  const name = production ? '__Host-mic.pre' : 'mic.pre';
  const minted = new WeakMap<Request, string>();
  const mac = (id: string) =>
    createHmac('sha256', secret).update(`pre-session:${id}`).digest().subarray(0, 16).toString('base64url');

  const read = (req: Request): string | undefined => {
    const cookies = req.cookies as Record<string, unknown> | undefined;
    const raw = cookies?.[name];
    if (typeof raw !== 'string') return undefined;
    const [id = '', signature = ''] = raw.split('.');
    const expected = Buffer.from(mac(id));
    const given = Buffer.from(signature);
    return id && given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  };

  return {
    id(req: Request): string {
      const known = read(req) ?? minted.get(req);
      if (known) return known;
      const id = randomBytes(18).toString('base64url');
      minted.set(req, id);
      req.res?.cookie(name, `${id}.${mac(id)}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure: production,
        path: '/',
      });
      return id;
    },
  };
}
