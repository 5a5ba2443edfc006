import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { imsStoreRecord, manualIntegrationRecord } from '../../src/activation/register-store.js';
import type { IntegrationRecord } from '../../src/storage/types.js';
import { startTestConnector } from '../helpers/connector.js';

/**
 * Stores registered by the operator (`npm run store -- add-manual|add-saas`), not through the handshake:
 * 1. Without --user such a store has no userId ("admins only"). The identity link must not treat that as
 *    "no one linked it yet": anyone who knows the key (or, for IMS, the shared origin) would own the store.
 * 2. Registering (even with --no-check, so nothing proven) must not supersede the store's live
 *    integration and erase its tokens unless the operator asks to replace it.
 */
let t: Awaited<ReturnType<typeof startTestConnector>>;
let idA: string;
const PASSWORD = 'a long enough password';
const STORE = 'http://store.example';
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function loggedIn(email: string) {
  const agent = request.agent(t.connector.url);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfOf(page.text), email, password: PASSWORD });
  expect(res.status).toBe(303);
  return agent;
}

beforeAll(async () => {
  t = await startTestConnector({
    SYNC_INTERVALS: 'products=0,customers=0,orders=0,stock=0,customer_groups=0,shipments=0,categories=0',
  });
  idA = (await t.connector.accounts.createUser('ann@example.com', PASSWORD)).id;
  await t.connector.accounts.createUser('mallory@example.com', PASSWORD);
});
afterAll(async () => {
  await t.close();
});

describe('a store registered by the operator for admins only', () => {
  it.each(['manual', 'ims'])(
    '(%s) cannot be claimed by a non-admin user through the identity link',
    async (kind) => {
      const at = new Date().toISOString();
      const record =
        kind === 'manual'
          ? manualIntegrationRecord(
              {
                storeBaseUrl: 'http://manual.example/',
                consumerKey: 'a'.repeat(32),
                consumerSecret: 'b'.repeat(32),
                accessToken: 'c'.repeat(32),
                accessTokenSecret: 'd'.repeat(32),
                signatureMethod: 'HMAC-SHA256',
              },
              at,
            )
          : imsStoreRecord(
              {
                restBaseUrl: 'https://na1.api.commerce.adobe.com/tenant1/',
                clientId: 'cid',
                clientSecret: 'secret',
                scopes: 'commerce.accs',
                tokenUrl: 'https://ims-na1.adobelogin.com/ims/token/v3',
              },
              at,
            );
      await t.connector.activation.registerActive(record); // what npm run store does, without --user
      const key = record.consumerKey;
      const back = `${record.storeOrigin}/anything`;
      const mallory = await loggedIn('mallory@example.com');
      // Not an admin: before the link she does not see the store.
      const before = (await mallory.get('/api/integrations')).body as {
        integrations: { consumerKey: string }[];
      };
      expect(before.integrations.map((i) => i.consumerKey)).not.toContain(key);
      const page = await mallory.get(
        `/magento/identity?oauth_consumer_key=${key}&success_call_back=${encodeURIComponent(back)}`,
      );
      expect(page.status).toBe(403);
      expect(page.text).toContain('registered by the operator');
      // The form POST itself, with a valid CSRF token of her session, is refused too.
      const dashboard = await mallory.get('/');
      const post = await mallory
        .post('/magento/identity')
        .type('form')
        .send({ _csrf: csrfOf(dashboard.text), oauth_consumer_key: key, success_call_back: back });
      expect(post.status).toBe(403);
      expect(post.text).toContain('registered by the operator');
      const list = (await mallory.get('/api/integrations')).body as {
        integrations: { consumerKey: string }[];
      };
      expect(list.integrations.map((i) => i.consumerKey)).not.toContain(key);
      expect((await t.connector.storage.integrations.get(key))?.userId).toBeUndefined();
    },
  );
});

describe('registering a store that already has a live integration', () => {
  it('is refused, naming the live one, and does not erase the working credentials (--no-check: nothing proven)', async () => {
    const now = new Date().toISOString();
    const live: IntegrationRecord = {
      consumerKey: 'e'.repeat(32),
      storeBaseUrl: `${STORE}/`,
      storeOrigin: STORE,
      status: 'active',
      consumerSecret: 'f'.repeat(32),
      accessToken: 'g'.repeat(32),
      accessTokenSecret: 'h'.repeat(32),
      signatureMethod: 'HMAC-SHA256',
      receivedAt: now,
      activatedAt: now,
      userId: idA,
      linkedAt: now,
      callbackCount: 1,
      createdAt: now,
      updatedAt: now,
      events: [],
      history: [],
    };
    await t.connector.storage.integrations.create(live);
    // A typo'd / wrong set of credentials, stored unchecked.
    const wrong = manualIntegrationRecord(
      {
        storeBaseUrl: `${STORE}/`,
        consumerKey: '0'.repeat(32),
        consumerSecret: '0'.repeat(32),
        accessToken: '0'.repeat(32),
        accessTokenSecret: '0'.repeat(32),
        signatureMethod: 'HMAC-SHA256',
      },
      new Date(Date.now() + 1000).toISOString(),
    );
    await expect(t.connector.activation.registerActive(wrong)).rejects.toThrow(live.consumerKey);
    const after = await t.connector.storage.integrations.get(live.consumerKey);
    expect(after?.status).toBe('active');
    expect(after?.accessToken).toBe('g'.repeat(32));
    expect(after?.userId).toBe(idA);
    // Nothing of the refused registration is stored.
    expect(await t.connector.storage.integrations.get(wrong.consumerKey)).toBeUndefined();
  });

  it('replaces it when the operator asks (--replace): the old one is superseded and the new one inherits its user', async () => {
    const now = new Date(Date.now() + 2000).toISOString();
    const replacement = manualIntegrationRecord(
      {
        storeBaseUrl: `${STORE}/`,
        consumerKey: '1'.repeat(32),
        consumerSecret: '1'.repeat(32),
        accessToken: '1'.repeat(32),
        accessTokenSecret: '1'.repeat(32),
        signatureMethod: 'HMAC-SHA256',
      },
      now,
    );
    await t.connector.activation.registerActive(replacement, { replace: true });
    const old = await t.connector.storage.integrations.get('e'.repeat(32));
    expect(old).toMatchObject({ status: 'superseded', supersededBy: replacement.consumerKey });
    expect(old?.accessToken).toBeUndefined();
    expect(await t.connector.storage.integrations.get(replacement.consumerKey)).toMatchObject({
      status: 'active',
      userId: idA,
    });
  });
});
