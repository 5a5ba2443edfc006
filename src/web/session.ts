import { hkdfSync } from 'node:crypto';
import session from 'express-session';
import type { RequestHandler } from 'express';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** Set when a form is shown to an anonymous visitor, so the session (and its CSRF binding) persists. */
    anonymous?: boolean;
  }
}

export const SESSION_COOKIE = 'mic.sid';

/** SESSION_SECRET when given, else one derived from the encryption key (HKDF keeps them independent). */
export function sessionSecret(configured: string | undefined, encryptionKey: Buffer): string {
  if (configured) return configured;
  return Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'session-secret', 32)).toString(
    'base64url',
  );
}

export function sessionMiddleware(options: {
  secret: string;
  store: session.Store;
  production: boolean;
  maxAgeMs?: number;
}): { middleware: RequestHandler } {
  const { store } = options;
  const middleware = session({
    name: SESSION_COOKIE,
    secret: options.secret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: options.production,
      maxAge: options.maxAgeMs ?? 8 * 60 * 60 * 1000,
    },
  });
  return { middleware };
}
