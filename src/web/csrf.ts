import { doubleCsrf } from 'csrf-csrf';
import type { Request } from 'express';

/**
 * CSRF tokens for every form (double-submit cookie, bound to the session id). The server-to-server
 * callback is exempt: it carries no session and is checked against the store instead.
 */
export function csrfProtection(secret: string, production: boolean) {
  return doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req: Request) => req.session.id,
    cookieName: production ? '__Host-mic.csrf' : 'mic.csrf',
    cookieOptions: { sameSite: 'lax', secure: production, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req: Request) => {
      const body = req.body as Record<string, unknown> | undefined;
      return typeof body?._csrf === 'string' ? body._csrf : req.get('x-csrf-token');
    },
    skipCsrfProtection: (req: Request) => req.path === '/magento/callback',
  });
}
