import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import session, { type SessionData } from 'express-session';
import request from 'supertest';
import { createEmbeddedStorage } from '../../src/storage/embedded/embedded-storage.js';
import { PersistentSessionStore } from '../../src/storage/session-store.js';
import type { SessionStoreBackend, Storage } from '../../src/storage/types.js';

declare module 'express-session' {
  interface SessionData {
    views?: number;
  }
}

const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const HOUR = 3_600_000;

function sess(cookie: Record<string, unknown>, extra: Record<string, unknown> = {}): SessionData {
  return { cookie: { path: '/', httpOnly: true, ...cookie }, ...extra } as unknown as SessionData;
}

const get = (store: session.Store, sid: string) =>
  new Promise<SessionData | null | undefined>((resolve, reject) =>
    store.get(sid, (err, value) => (err ? reject(err) : resolve(value))),
  );
const set = (store: session.Store, sid: string, value: SessionData) =>
  new Promise<void>((resolve, reject) => store.set(sid, value, (err) => (err ? reject(err) : resolve())));
const destroy = (store: session.Store, sid: string) =>
  new Promise<void>((resolve, reject) => store.destroy(sid, (err) => (err ? reject(err) : resolve())));
const touch = (store: session.Store, sid: string, value: SessionData) =>
  new Promise<void>((resolve, reject) =>
    store.touch?.(sid, value, ((err?: unknown) => (err ? reject(err) : resolve())) as () => void),
  );

describe('PersistentSessionStore', () => {
  let dir: string;
  let storage: Storage & { sessions: SessionStoreBackend };
  let clock: number;
  const stores: PersistentSessionStore[] = [];
  const makeStore = (options: ConstructorParameters<typeof PersistentSessionStore>[1] = {}) => {
    const store = new PersistentSessionStore(storage.sessions, { now: () => clock, ...options });
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mic-sess-'));
    storage = await createEmbeddedStorage({ dataDir: dir, key: Buffer.alloc(32, 3) });
    clock = T0;
  });
  afterEach(async () => {
    stores.splice(0).forEach((s) => s.close());
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('set then get returns the session; the expiry comes from cookie.expires', async () => {
    const store = makeStore();
    const expires = new Date(T0 + 2 * HOUR);
    await set(store, 'sid1', sess({ expires, originalMaxAge: 2 * HOUR }, { userId: 'u1' }));
    expect(await get(store, 'sid1')).toEqual({
      cookie: { path: '/', httpOnly: true, expires: expires.toISOString(), originalMaxAge: 2 * HOUR },
      userId: 'u1',
    });
    expect((await storage.sessions.get('sid1'))?.expiresAt).toBe(expires.toISOString());
  });

  it('takes the expiry from maxAge, else one day', async () => {
    const store = makeStore();
    await set(store, 'a', sess({ originalMaxAge: HOUR }));
    await set(store, 'b', sess({}));
    expect((await storage.sessions.get('a'))?.expiresAt).toBe(new Date(T0 + HOUR).toISOString());
    expect((await storage.sessions.get('b'))?.expiresAt).toBe(new Date(T0 + 24 * HOUR).toISOString());
  });

  it('get of an unknown session gives no session and no error', async () => {
    expect(await get(makeStore(), 'nope')).toBeFalsy();
  });

  it('treats an expired session as absent, and prune() drops it', async () => {
    const store = makeStore();
    await set(store, 'short', sess({ expires: new Date(T0 + 1000) }));
    await set(store, 'long', sess({ expires: new Date(T0 + HOUR) }));
    clock = T0 + 1000;
    expect(await get(store, 'short')).toBeFalsy();
    expect(await get(store, 'long')).toBeTruthy();
    expect(await store.prune()).toBe(1);
    expect(await storage.sessions.get('short')).toBeUndefined();
    expect(await storage.sessions.get('long')).toBeDefined();
  });

  it('touch moves the expiry and keeps the stored data', async () => {
    const store = makeStore();
    await set(store, 'sid', sess({ expires: new Date(T0 + HOUR), originalMaxAge: HOUR }, { views: 3 }));
    clock = T0 + 10 * 60_000;
    const later = new Date(clock + HOUR);
    await touch(store, 'sid', sess({ expires: later, originalMaxAge: HOUR }, { views: 99 }));
    expect((await storage.sessions.get('sid'))?.expiresAt).toBe(later.toISOString());
    const back = await get(store, 'sid');
    expect(back?.views).toBe(3);
    expect(back?.cookie.expires).toBe(later.toISOString());
    clock = T0 + HOUR + 1;
    expect(await get(store, 'sid')).toBeTruthy();
  });

  it('touch skips the write when the expiry barely moves, and never revives a session', async () => {
    const store = makeStore();
    await set(store, 'sid', sess({ expires: new Date(T0 + HOUR) }));
    const before = await storage.sessions.get('sid');
    await touch(store, 'sid', sess({ expires: new Date(T0 + HOUR + 5_000) }));
    expect(await storage.sessions.get('sid')).toEqual(before);

    await touch(store, 'missing', sess({ expires: new Date(T0 + HOUR) }));
    expect(await storage.sessions.get('missing')).toBeUndefined();

    clock = T0 + 2 * HOUR;
    await touch(store, 'sid', sess({ expires: new Date(clock + HOUR) }));
    expect(await get(store, 'sid')).toBeFalsy();
  });

  it('destroy removes the session', async () => {
    const store = makeStore();
    await set(store, 'sid', sess({}));
    await destroy(store, 'sid');
    expect(await get(store, 'sid')).toBeFalsy();
    await destroy(store, 'sid');
  });

  it('prunes periodically until closed', async () => {
    const store = makeStore({ pruneIntervalMs: 10 });
    await set(store, 'sid', sess({ expires: new Date(T0 + 1000) }));
    clock = T0 + 2000;
    for (let i = 0; i < 200 && (await storage.sessions.get('sid')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await storage.sessions.get('sid')).toBeUndefined();
    store.close();
  });

  it('passes backend failures to the callback', async () => {
    const failure = new Error('disk full');
    const failing: SessionStoreBackend = {
      get: () => Promise.reject(failure),
      set: () => Promise.reject(failure),
      destroy: () => Promise.reject(failure),
      prune: () => Promise.reject(failure),
    };
    const store = new PersistentSessionStore(failing, { pruneIntervalMs: 0 });
    await expect(get(store, 'x')).rejects.toBe(failure);
    await expect(set(store, 'x', sess({}))).rejects.toBe(failure);
    await expect(destroy(store, 'x')).rejects.toBe(failure);
    await expect(touch(store, 'x', sess({}))).rejects.toBe(failure);
  });

  it('keeps express-session sessions across a restart', async () => {
    const secret = 'test-session-secret';
    const appWith = (store: session.Store) => {
      const app = express();
      app.use(session({ secret, store, resave: false, saveUninitialized: false, cookie: { maxAge: HOUR } }));
      app.get('/count', (req, res) => {
        req.session.views = (req.session.views ?? 0) + 1;
        res.json({ views: req.session.views });
      });
      return app;
    };
    const first = appWith(new PersistentSessionStore(storage.sessions, { pruneIntervalMs: 0 }));
    const res1 = await request(first).get('/count');
    expect(res1.body).toEqual({ views: 1 });
    const setCookie = res1.headers['set-cookie'] as unknown as string[] | undefined;
    const cookie = setCookie?.[0]?.split(';')[0] ?? '';
    expect(cookie).toMatch(/^connect\.sid=/);
    expect((await request(first).get('/count').set('Cookie', cookie)).body).toEqual({ views: 2 });

    await storage.close();
    storage = await createEmbeddedStorage({ dataDir: dir, key: Buffer.alloc(32, 3) });
    const restarted = appWith(new PersistentSessionStore(storage.sessions, { pruneIntervalMs: 0 }));
    const res = await request(restarted).get('/count').set('Cookie', cookie);
    expect(res.body).toEqual({ views: 3 });
  });
});
