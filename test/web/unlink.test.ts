import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import type { SyncRun } from '../../src/sync/sync-service.js';
import { csrfOf, loggedInAgent } from '../helpers/connector.js';
import { linkTestConnector, type TestConnector } from '../helpers/linked-connector.js';

let sim: RunningSimulator;
let t: TestConnector;
let key: string;

beforeAll(async () => {
  ({
    sim,
    t,
    store: key,
  } = await linkTestConnector({ products: 12, customers: 2, orders: 1 }, { SYNC_INTERVALS: '' }));
  await t.connector.sync.enqueue(key, 'products');
  await t.connector.sync.idle();
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

describe('unlinking a store from the dashboard', () => {
  it('confirms on a page with a CSRF form, then deletes tokens, runs and records and says what to do in the admin', async () => {
    const { storage } = t.connector;
    expect(await storage.records.count(key, 'products')).toBe(12);
    const agent = await loggedInAgent(t.connector.url);
    expect((await agent.get('/')).text).toContain(`href="/integrations/${key}/unlink"`);

    const page = await agent.get(`/integrations/${key}/unlink`).expect(200);
    expect(page.text).toContain('<strong>12</strong> records synced from it');
    expect(page.text).toContain(`delete the integration whose consumer key is ${key}`);
    const csrf = csrfOf(page.text);

    // Without the token, or without the confirmation: refused, nothing changes.
    await agent.post(`/integrations/${key}/unlink`).type('form').send({ confirm: 'unlink' }).expect(403);
    const unconfirmed = await agent
      .post(`/integrations/${key}/unlink`)
      .type('form')
      .set('accept', 'application/json')
      .send({ _csrf: csrf });
    expect(unconfirmed.status).toBe(400);
    expect(await storage.integrations.get(key)).toBeDefined();
    expect(await storage.records.count(key, 'products')).toBe(12);

    const done = await agent
      .post(`/integrations/${key}/unlink`)
      .type('form')
      .send({ _csrf: csrf, confirm: 'unlink' })
      .expect(200);
    expect(done.text).toContain(`Unlinked ${sim.url}/ (${key})`);
    expect(done.text).toContain('12 synced records deleted');
    expect(done.text).toContain('System &gt; Extensions &gt; Integrations');
    expect(await storage.integrations.get(key)).toBeUndefined();
    expect(await storage.records.count(key, 'products')).toBe(0);
    expect(await storage.documents<SyncRun>('sync_runs').list({ storeKey: key })).toEqual([]);
    expect(await t.connector.sync.listJobs(key)).toEqual([]);
    // Gone from the list; its page is a 404 now.
    expect((await agent.get('/')).text).not.toContain(key);
    await agent.get(`/integrations/${key}/unlink`).expect(404);
  });
});
