import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { openStorage } from '../../src/storage/open.js';
import type { IntegrationRecord } from '../../src/storage/types.js';
import { activate, createIntegration } from '../helpers/activation.js';
import { startCallbackServer } from '../helpers/callback-server.js';
import { startTestConnector } from '../helpers/connector.js';
import { parseForm, signedRequest } from '../helpers/oauth-client.js';

let sim: RunningSimulator;
let callback: Awaited<ReturnType<typeof startCallbackServer>>;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 5, customers: 1, orders: 1 });
  // Stands in for a connector that died right after answering the callback.
  callback = await startCallbackServer();
});
afterAll(async () => {
  await callback.close();
  await sim.close();
});

/** What the store POSTed for a freshly activated integration (it waits for an exchange now). */
async function credentialsFromStore(): Promise<Record<string, string>> {
  const created = await createIntegration(sim.url, callback, { all_resources: true });
  const { fields } = await activate(sim.url, callback, created.id);
  return fields;
}

function acknowledged(
  fields: Record<string, string>,
  extra: Partial<IntegrationRecord> = {},
): IntegrationRecord {
  const now = new Date().toISOString();
  return {
    consumerKey: fields.oauth_consumer_key!,
    storeBaseUrl: `${sim.url}/`,
    storeOrigin: sim.url,
    status: 'exchanging',
    consumerSecret: fields.oauth_consumer_secret!,
    verifier: fields.oauth_verifier!,
    signatureMethod: 'HMAC-SHA256',
    receivedAt: now,
    callbackCount: 1,
    createdAt: now,
    updatedAt: now,
    // The process that held it is gone.
    lease: { owner: 'a-process-that-died', until: new Date(Date.now() + 60_000).toISOString() },
    events: [],
    history: [],
    ...extra,
  };
}

/** A data dir holding the records as a process killed mid-exchange left them. */
async function dataDirWith(records: IntegrationRecord[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'durability-'));
  const { storage } = await openStorage({ dataDir: dir, envKey: undefined, production: false });
  for (const r of records) await storage.integrations.put(r);
  await storage.close();
  return dir;
}

describe('nothing acknowledged is lost', () => {
  it('resumes at start every exchange a killed process left unfinished, and expires the late ones', async () => {
    const pending = await credentialsFromStore();
    const exchanging = await credentialsFromStore();
    // Killed between the two steps: the request token was stored, so only the access step remains.
    const halfway = await credentialsFromStore();
    const consumer = {
      consumerKey: halfway.oauth_consumer_key!,
      consumerSecret: halfway.oauth_consumer_secret!,
    };
    const token = parseForm(
      (await signedRequest(sim.url, consumer, { method: 'POST', path: '/oauth/token/request' })).body,
    );
    const late = await credentialsFromStore();
    const dir = await dataDirWith([
      acknowledged(pending, { status: 'pending', lease: undefined }),
      acknowledged(exchanging),
      acknowledged(halfway, {
        requestToken: token.oauth_token,
        requestTokenSecret: token.oauth_token_secret,
      }),
      acknowledged(late, { status: 'pending', receivedAt: new Date(Date.now() - 301_000).toISOString() }),
    ]);
    const t = await startTestConnector({ DATA_DIR: dir });
    try {
      const status = async (f: Record<string, string>) =>
        (await t.connector.activation.settled(f.oauth_consumer_key!))!;
      // All from one store: each got its tokens, the newest stays current (one per store).
      for (const f of [pending, exchanging, halfway]) {
        const r = await status(f);
        expect(['active', 'superseded']).toContain(r.status);
        expect(r.activatedAt).toBeDefined();
        expect(r.requestToken).toBeUndefined();
      }
      const current = await t.connector.storage.integrations.list({ statuses: ['active'] });
      expect(current).toHaveLength(1);
      const expired = await status(late);
      expect(expired.status).toBe('failed');
      expect(expired.statusReason).toMatch(/click Activate/i);
    } finally {
      await t.close();
    }
  });

  it('restarts a stuck exchange when the store sends the same callback again', async () => {
    const fields = await credentialsFromStore();
    const dir = await dataDirWith([]);
    const t = await startTestConnector({ DATA_DIR: dir });
    try {
      // Left "exchanging" by another instance whose claim has lapsed.
      await t.connector.storage.integrations.put(
        acknowledged(fields, { lease: { owner: 'gone', until: new Date(Date.now() - 1000).toISOString() } }),
      );
      const res = await fetch(`${t.connector.url}/magento/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...fields, store_base_url: `${sim.url}/` }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outcome: string }).outcome).toBe('retry');
      expect((await t.connector.activation.settled(fields.oauth_consumer_key!))?.status).toBe('active');
    } finally {
      await t.close();
    }
  });

  it('answers 503, never 200, when the callback cannot be stored', async () => {
    const fields = await credentialsFromStore();
    const t = await startTestConnector();
    try {
      await t.connector.storage.close();
      const res = await fetch(`${t.connector.url}/magento/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...fields, store_base_url: `${sim.url}/` }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/Activate again/);
      expect(t.logs.join('')).toMatch(/callback not stored/);
      const health = await fetch(`${t.connector.url}/healthz`);
      expect(health.status).toBe(503);
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});
