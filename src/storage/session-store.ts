import session from 'express-session';
import type { SessionData } from 'express-session';
import type { WarnLogger } from './crypto.js';
import type { SessionEntry, SessionStoreBackend } from './types.js';

export interface PersistentSessionStoreOptions {
  /** How often expired sessions are dropped; 0 turns the timer off. Default 15 minutes. */
  pruneIntervalMs?: number;
  /** Lifetime of a session whose cookie has neither `expires` nor `maxAge`. Default 1 day. */
  defaultMaxAgeMs?: number;
  /**
   * `touch` writes only when the expiry moves by at least this much, so a burst of requests does not
   * rewrite the store each time. Default 1 minute.
   */
  touchThresholdMs?: number;
  now?: () => number;
  logger?: WarnLogger;
}

type Callback = (err?: unknown) => void;

const DAY_MS = 24 * 60 * 60 * 1000;

/** express-session store over a `SessionStoreBackend` (the embedded journal by default). */
export class PersistentSessionStore extends session.Store {
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly defaultMaxAgeMs: number;
  private readonly touchThresholdMs: number;
  private readonly now: () => number;
  private readonly logger: WarnLogger | undefined;

  constructor(
    private readonly backend: SessionStoreBackend,
    options: PersistentSessionStoreOptions = {},
  ) {
    super();
    this.defaultMaxAgeMs = options.defaultMaxAgeMs ?? DAY_MS;
    this.touchThresholdMs = options.touchThresholdMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    const interval = options.pruneIntervalMs ?? 15 * 60_000;
    if (interval > 0) {
      // unref: an idle prune timer must not keep the process alive.
      this.timer = setInterval(() => void this.prune().catch(() => undefined), interval).unref();
    }
  }

  /** Drops expired sessions now; returns how many. */
  async prune(): Promise<number> {
    try {
      return await this.backend.prune(new Date(this.now()));
    } catch (error) {
      this.logger?.warn({ err: error }, 'Pruning expired sessions failed.');
      throw error;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    settle(this.read(sid), callback);
  }

  override set(sid: string, sess: SessionData, callback?: Callback): void {
    const entry: SessionEntry = { data: JSON.stringify(sess), expiresAt: this.expiryOf(sess).toISOString() };
    settle(this.backend.set(sid, entry), callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    settle(this.backend.destroy(sid), callback);
  }

  /** Moves the expiry of a live session; a missing or expired one is left absent. */
  override touch(sid: string, sess: SessionData, callback?: Callback): void {
    settle(this.refresh(sid, sess), callback);
  }

  private async read(sid: string): Promise<SessionData | null> {
    const entry = await this.live(sid);
    if (!entry) return null;
    try {
      return JSON.parse(entry.data) as SessionData;
    } catch {
      // A corrupt entry is a lost session, not a failed request.
      return null;
    }
  }

  private async refresh(sid: string, sess: SessionData): Promise<void> {
    const entry = await this.live(sid);
    if (!entry) return;
    const expiresAt = this.expiryOf(sess);
    if (Math.abs(expiresAt.getTime() - Date.parse(entry.expiresAt)) < this.touchThresholdMs) return;
    let stored: SessionData;
    try {
      stored = JSON.parse(entry.data) as SessionData;
    } catch {
      return;
    }
    // Keep the stored data, take the new cookie (as express-session's MemoryStore does).
    stored.cookie = sess.cookie;
    await this.backend.set(sid, { data: JSON.stringify(stored), expiresAt: expiresAt.toISOString() });
  }

  private async live(sid: string): Promise<SessionEntry | undefined> {
    const entry = await this.backend.get(sid);
    if (!entry || !(Date.parse(entry.expiresAt) > this.now())) return undefined;
    return entry;
  }

  private expiryOf(sess: SessionData): Date {
    const cookie = sess.cookie as Partial<SessionData['cookie']> | undefined;
    if (cookie?.expires) {
      const expires = new Date(cookie.expires);
      if (!Number.isNaN(expires.getTime())) return expires;
    }
    const maxAge = cookie?.maxAge ?? cookie?.originalMaxAge;
    if (typeof maxAge === 'number' && Number.isFinite(maxAge)) return new Date(this.now() + maxAge);
    return new Date(this.now() + this.defaultMaxAgeMs);
  }
}

function settle<T>(work: Promise<T>, callback: ((err: unknown, value?: T) => void) | undefined): void {
  work.then(
    (value) => callback?.(null, value),
    (error: unknown) => callback?.(error),
  );
}
