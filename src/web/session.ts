import { createHash, hkdfSync } from 'node:crypto';
import session, { type SessionData } from 'express-session';
import type { RequestHandler } from 'express';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
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

/** What the storage keeps in place of a session id: a leaked store (or backup) yields no usable cookie. */
export function hashSessionId(sid: string): string {
  return createHash('sha256').update(sid).digest('hex');
}

type Callback = (err?: unknown) => void;

/**
 * Any express-session store, keyed by `hashSessionId(sid)` instead of the sid itself. `all` answers with
 * hashed ids: they cannot be turned back into cookies, which is the point.
 */
export class HashedSessionStore extends session.Store {
  constructor(private readonly inner: session.Store) {
    super();
    // express-session pauses while its store reports a lost connection (connect-pg-simple does).
    inner.on('connect', () => this.emit('connect'));
    inner.on('disconnect', () => this.emit('disconnect'));
    const { all, length, clear } = inner;
    if (all) this.all = (callback) => all.call(inner, callback);
    if (length) this.length = (callback) => length.call(inner, callback);
    if (clear) this.clear = (callback) => clear.call(inner, callback);
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.inner.get(hashSessionId(sid), callback);
  }

  override set(sid: string, sess: SessionData, callback?: Callback): void {
    this.inner.set(hashSessionId(sid), sess, callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    this.inner.destroy(hashSessionId(sid), callback);
  }

  override touch(sid: string, sess: SessionData, callback?: () => void): void {
    if (this.inner.touch) this.inner.touch(hashSessionId(sid), sess, callback);
    else callback?.();
  }
}

export function sessionMiddleware(options: {
  secret: string;
  store: session.Store;
  production: boolean;
  maxAgeMs?: number;
}): { middleware: RequestHandler } {
  const middleware = session({
    name: SESSION_COOKIE,
    secret: options.secret,
    store: new HashedSessionStore(options.store),
    resave: false,
    // Nothing is stored for an anonymous visitor: a session is written at login, not before.
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
