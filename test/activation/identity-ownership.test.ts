import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { IntegrationRecord } from '../../src/storage/types.js';
import { DEMO_EMAIL, DEMO_PASSWORD, startTestConnector } from '../helpers/connector.js';

/** Who may complete the identity link for a store that someone already linked. */
let t: Awaited<ReturnType<typeof startTestConnector>>;
let idA: string;
let idB: string;
let idAdmin: string;
const PASSWORD = 'a long enough password';
const A = 'ann@example.com';
const B = 'bob@example.com';
const STORE = 'http://store.example';
const BACK = `${STORE}/admin/done`;

type Agent = ReturnType<typeof request.agent>;
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const linkUrl = (key: string) =>
  `/magento/identity?oauth_consumer_key=${key}&success_call_back=${encodeURIComponent(BACK)}`;

async function putRecord(key: string, userId?: string): Promise<void> {
  const now = new Date().toISOString();
  const record: IntegrationRecord = {
    consumerKey: key,
    storeBaseUrl: `${STORE}/`,
    storeOrigin: STORE,
    // Failed: nothing runs an exchange for it in the background.
    status: 'failed',
    consumerSecret: 's'.repeat(32),
    verifier: 'v'.repeat(32),
    signatureMethod: 'HMAC-SHA256',
    receivedAt: now,
    userId,
    linkedAt: userId ? now : undefined,
    callbackCount: 1,
    createdAt: now,
    updatedAt: now,
    events: [],
    history: [],
  };
  await t.connector.storage.integrations.put(record);
}

async function loggedIn(email: string, password = PASSWORD): Promise<Agent> {
  const agent = request.agent(t.connector.url);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfOf(page.text), email, password });
  expect(res.status).toBe(303);
  return agent;
}

/** Opens the identity link and submits its form: with credentials when anonymous, as "Link" when logged in. */
async function completeLink(agent: Agent, key: string, credentials?: { email: string; password: string }) {
  const page = await agent.get(linkUrl(key));
  const res = await agent
    .post('/magento/identity')
    .type('form')
    .send({ _csrf: csrfOf(page.text), oauth_consumer_key: key, success_call_back: BACK, ...credentials });
  return { page, res };
}

const ownerOf = async (key: string) => (await t.connector.storage.integrations.get(key))?.userId;

beforeAll(async () => {
  t = await startTestConnector();
  idA = (await t.connector.accounts.createUser(A, PASSWORD)).id;
  idB = (await t.connector.accounts.createUser(B, PASSWORD)).id;
  idAdmin = (await t.connector.storage.users.getByEmail(DEMO_EMAIL))!.id;
});
afterAll(async () => {
  await t.close();
});

describe('identity link for a store another user linked', () => {
  it('refuses a logged-in other user before the form, and leaves the store linked to its user', async () => {
    const key = '1'.repeat(32);
    await putRecord(key, idA);
    const b = await loggedIn(B);
    const page = await b.get(linkUrl(key));
    expect(page.status).toBe(403);
    expect(page.text).toContain('already linked to another user');
    expect(page.text).not.toContain('name="password"');
    // Posting the form anyway (with a token from another page) changes nothing.
    const token = csrfOf((await b.get('/')).text);
    const res = await b
      .post('/magento/identity')
      .type('form')
      .send({ _csrf: token, oauth_consumer_key: key, success_call_back: BACK });
    expect(res.status).toBe(403);
    expect(res.text).toContain('already linked to another user');
    expect(await ownerOf(key)).toBe(idA);
    const progress = await b.get(
      `/magento/identity/progress?oauth_consumer_key=${key}&success_call_back=${encodeURIComponent(BACK)}`,
    );
    expect(progress.status).toBe(403);
  });

  it('refuses another user who logs in on the identity page', async () => {
    const key = '2'.repeat(32);
    await putRecord(key, idA);
    const { page, res } = await completeLink(request.agent(t.connector.url), key, {
      email: B,
      password: PASSWORD,
    });
    expect(page.status).toBe(200);
    expect(res.status).toBe(403);
    expect(res.text).toContain('already linked to another user');
    expect(res.headers['set-cookie']?.toString() ?? '').not.toContain('mic.sid=');
    expect(await ownerOf(key)).toBe(idA);
    const events = (await t.connector.storage.integrations.get(key))?.events ?? [];
    expect(events.filter((e) => e.step === 'identity_link')).toEqual([]);
  });

  it('lets the user who linked it link it again, logged in or logging in', async () => {
    const key = '3'.repeat(32);
    await putRecord(key, idA);
    const first = await completeLink(request.agent(t.connector.url), key, { email: A, password: PASSWORD });
    expect(first.res.status).toBe(303);
    expect(first.res.headers.location).toMatch(/^\/magento\/identity\/progress\?/);
    const second = await completeLink(await loggedIn(A), key);
    expect(second.page.status).toBe(200);
    expect(second.res.status).toBe(303);
    expect(await ownerOf(key)).toBe(idA);
  });

  it('lets an admin link it again, leaving the store with its user', async () => {
    const key = '4'.repeat(32);
    await putRecord(key, idA);
    const admin = await loggedIn(DEMO_EMAIL, DEMO_PASSWORD);
    const { res } = await completeLink(admin, key);
    expect(res.status).toBe(303);
    expect(await ownerOf(key)).toBe(idA);
    expect(await ownerOf(key)).not.toBe(idAdmin);
    // The admin may follow the activation they just confirmed.
    expect((await admin.get(res.headers.location as string)).status).toBe(200);
  });

  it('links a store no one linked to whoever completes the login', async () => {
    const key = '5'.repeat(32);
    await putRecord(key);
    const { res } = await completeLink(request.agent(t.connector.url), key, { email: B, password: PASSWORD });
    expect(res.status).toBe(303);
    expect(await ownerOf(key)).toBe(idB);
  });
});
