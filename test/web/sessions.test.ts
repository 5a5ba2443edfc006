import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import session, { type SessionData } from 'express-session';
import request from 'supertest';
import type { IntegrationRecord, SessionStoreBackend, Storage } from '../../src/storage/types.js';
import { HashedSessionStore, hashSessionId } from '../../src/web/session.js';
import { DEMO_EMAIL, DEMO_PASSWORD, startTestConnector } from '../helpers/connector.js';

let t: Awaited<ReturnType<typeof startTestConnector>>;
let backend: SessionStoreBackend;
let writes: string[];
const KEY = 'a'.repeat(32);
const STORE = 'http://store.example';
const identityUrl = `/magento/identity?oauth_consumer_key=${KEY}&success_call_back=${encodeURIComponent(`${STORE}/admin/done`)}`;

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
/** The raw session id inside express-session's signed cookie `s:<sid>.<signature>`. */
const sidOf = (setCookie: string[] | string | undefined) => {
  const line = [setCookie ?? []].flat().find((c) => c.startsWith('mic.sid='));
  return line && /^mic\.sid=s%3A([^.]+)\./.exec(line)?.[1];
};

beforeAll(async () => {
  t = await startTestConnector();
  backend = (t.connector.storage as Storage & { sessions: SessionStoreBackend }).sessions;
  // Count every session write that reaches the storage.
  writes = [];
  const set = backend.set.bind(backend);
  backend.set = (sid, entry) => {
    writes.push(sid);
    return set(sid, entry);
  };
  const now = new Date().toISOString();
  const record: IntegrationRecord = {
    consumerKey: KEY,
    storeBaseUrl: `${STORE}/`,
    storeOrigin: STORE,
    status: 'failed',
    consumerSecret: 'b'.repeat(32),
    verifier: 'c'.repeat(32),
    signatureMethod: 'HMAC-SHA256',
    receivedAt: now,
    callbackCount: 1,
    createdAt: now,
    updatedAt: now,
    events: [],
    history: [],
  };
  await t.connector.storage.integrations.put(record);
});
afterAll(async () => {
  await t.close();
});

describe('sessions', () => {
  it('stores no session for 200 anonymous views of /login and the identity link', async () => {
    for (let i = 0; i < 100; i++) {
      const login = await request(t.connector.url).get('/login');
      expect(login.status).toBe(200);
      expect(sidOf(login.headers['set-cookie'])).toBeUndefined();
      const identity = await request(t.connector.url).get(identityUrl);
      expect(identity.status).toBe(200);
      expect(sidOf(identity.headers['set-cookie'])).toBeUndefined();
    }
    expect(writes).toEqual([]);
    // Nothing stored at all: pruning as of far in the future finds no session to drop.
    expect(await backend.prune(new Date(Date.UTC(3000, 0)))).toBe(0);
  });

  it('logs in with the token of an anonymous page, and refuses a login without it', async () => {
    const agent = request.agent(t.connector.url);
    const page = await agent.get('/login');
    const noToken = await agent
      .post('/login')
      .type('form')
      .send({ email: DEMO_EMAIL, password: DEMO_PASSWORD });
    expect(noToken.status).toBe(403);
    // A token from another browser's page does not fit this browser's cookies.
    const other = await request(t.connector.url).get('/login');
    const foreign = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfOf(other.text), email: DEMO_EMAIL, password: DEMO_PASSWORD });
    expect(foreign.status).toBe(403);
    expect(writes).toEqual([]);

    const res = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfOf(page.text), email: DEMO_EMAIL, password: DEMO_PASSWORD });
    expect(res.status).toBe(303);
    // One session, the logged-in one (express-session writes it again after an explicit save).
    expect(new Set(writes).size).toBe(1);
    expect((await agent.get('/')).status).toBe(200);
  });

  it('logs in through the identity link with the token of its anonymous page', async () => {
    const agent = request.agent(t.connector.url);
    const page = await agent.get(identityUrl);
    const res = await agent
      .post('/magento/identity')
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        oauth_consumer_key: KEY,
        success_call_back: `${STORE}/admin/done`,
        email: DEMO_EMAIL,
        password: DEMO_PASSWORD,
      });
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/magento\/identity\/progress\?/);
    expect((await t.connector.storage.integrations.get(KEY))?.userId).toBeDefined();
  });

  it('keeps only a hash of the session id: the raw id from the cookie is nowhere in storage', async () => {
    const agent = request.agent(t.connector.url);
    const page = await agent.get('/login');
    const res = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfOf(page.text), email: DEMO_EMAIL, password: DEMO_PASSWORD });
    const sid = sidOf(res.headers['set-cookie']);
    expect(sid).toBeTruthy();
    expect(await backend.get(sid!)).toBeUndefined();
    expect(await backend.get(hashSessionId(sid!))).toMatchObject({ data: expect.stringContaining('userId') });
    expect(writes).toContain(hashSessionId(sid!));
    expect(writes).not.toContain(sid);

    // The fixation guard: a session id held before login is not the one after it.
    const before = sid!;
    const again = await agent.get('/login');
    const second = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfOf(again.text), email: DEMO_EMAIL, password: DEMO_PASSWORD });
    const after = sidOf(second.headers['set-cookie']);
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);

    // Logging out removes the stored session.
    const dash = await agent.get('/');
    await agent
      .post('/logout')
      .type('form')
      .send({ _csrf: csrfOf(dash.text) });
    expect(await backend.get(hashSessionId(after!))).toBeUndefined();
  });
});

describe('HashedSessionStore', () => {
  const call = <T>(fn: (cb: (err: unknown, value?: T) => void) => void) =>
    new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

  it('passes every call to the inner store under the hashed id, all/length/clear included', async () => {
    const inner = new session.MemoryStore();
    const store = new HashedSessionStore(inner);
    const data = {
      cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) },
    } as SessionData;
    await call<void>((cb) => store.set('raw-sid', { ...data, userId: 'u1' }, cb));
    expect(await call<SessionData | null>((cb) => inner.get(hashSessionId('raw-sid'), cb))).toMatchObject({
      userId: 'u1',
    });
    expect(await call<SessionData | null>((cb) => inner.get('raw-sid', cb))).toBeFalsy();
    expect(await call<SessionData | null>((cb) => store.get('raw-sid', cb))).toMatchObject({ userId: 'u1' });
    await call<void>((cb) => store.touch('raw-sid', data, () => cb(null)));
    expect(await call<number>((cb) => store.length!(cb))).toBe(1);
    expect(
      Object.keys(
        (await call<SessionData[] | Record<string, SessionData> | null>((cb) => store.all!(cb))) ?? {},
      ),
    ).toEqual([hashSessionId('raw-sid')]);
    await call<void>((cb) => store.destroy('raw-sid', cb));
    expect(await call<number>((cb) => store.length!(cb))).toBe(0);
    await call<void>((cb) => store.set('other', data, cb));
    await call<void>((cb) => store.clear!(cb));
    expect(await call<number>((cb) => inner.length(cb))).toBe(0);
  });

  it('offers all/length/clear only when the inner store has them', () => {
    const bare = new (class extends session.Store {
      override get() {}
      override set() {}
      override destroy() {}
    })();
    const store = new HashedSessionStore(bare);
    expect(store.all).toBeUndefined();
    expect(store.length).toBeUndefined();
    expect(store.clear).toBeUndefined();
  });
});
