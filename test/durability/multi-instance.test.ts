import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newCredentials, newEncryptionKey, waitUntil, type Credentials } from '../../src/bench/common.js';
import { startCannedStoreProcess, type CannedStoreProcess } from '../../src/bench/canned-store-process.js';
import {
  BENCH_DEMO_EMAIL,
  BENCH_DEMO_PASSWORD,
  spawnConnector,
  type ConnectorProcess,
} from '../../src/bench/connector-process.js';
import { BrowserSession } from '../../src/bench/browser-session.js';
import type { CallbackResult } from '../../src/bench/load-generator.js';
import { startLoadGenerator } from '../../src/bench/load-process.js';
import { readStoredIntegrations, readSyncRuns } from '../../src/bench/read-results.js';
import { settleStore } from '../../src/bench/scale.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { MAGENTO2_ENTITIES } from '../../src/sync/magento2/channel.js';

/**
 * Two connector processes on one PostgreSQL database (same DATABASE_URL and TOKEN_ENCRYPTION_KEY):
 * a store's callback may land on one instance and its identity-link popup on the other, and a sync a
 * dead instance was running must be finished by the live one, never by both at once.
 */

const ACTIVATIONS = 200;
const ENTITIES = MAGENTO2_ENTITIES;
const few = <T>(list: T[]) => ({ count: list.length, first: list.slice(0, 3) });
const none = { count: 0, first: [] };
const tally = (values: (string | number)[]) => {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
};

let db: { url: string; drop: () => Promise<void> };
let store: CannedStoreProcess;
let a: ConnectorProcess;
let b: ConnectorProcess;
const dirs: string[] = [];
const encryptionKey = newEncryptionKey();
let credentials: Credentials[] = [];
let acked: CallbackResult[] = [];

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

beforeAll(async () => {
  db = await createTestDatabase();
  // REST answers take a while, so two runs of one store's entity would overlap (and be counted).
  store = await startCannedStoreProcess({ restLatencyMs: 400 });
  for (let i = 0; i < 2; i++) dirs.push(await mkdtemp(path.join(tmpdir(), 'multi-instance-')));
  const env = {
    SESSION_SECRET: 's'.repeat(40),
    // Every identity link below logs in or posts the form: far more than a person would.
    LOGIN_RATE_LIMIT: '10000',
    CALLBACK_WAIT_SECONDS: '2',
    // Many stores at once, and a killed instance's runs taken over within seconds.
    SYNC_CONCURRENCY: '40',
    SYNC_SLICE_SECONDS: '3',
    JOB_EXPIRY_CHECK_SECONDS: '2',
  };
  // Both start at once on the empty database: each creates pg-boss's schema and queues.
  const started = await Promise.allSettled(
    dirs.map((dataDir) => spawnConnector({ dataDir, encryptionKey, databaseUrl: db.url, env })),
  );
  // Kept even if the other failed, so afterAll kills it rather than leaving it running.
  const [first, second] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  if (first) a = first;
  if (second) b = second;
  for (const s of started) if (s.status === 'rejected') throw s.reason;
}, 60_000);

afterAll(async () => {
  a?.kill('SIGKILL');
  b?.kill('SIGKILL');
  await Promise.all([a?.exited, b?.exited]);
  await store?.stop();
  await db?.drop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('two connector instances on one PostgreSQL database', () => {
  it('activates 200 stores exactly once with callbacks and identity links on different instances', async () => {
    credentials = Array.from({ length: ACTIVATIONS }, (_, i) => newCredentials(i, 60, store.port));
    const load = await startLoadGenerator({
      storeAdminUrl: store.adminUrl,
      targets: [a.url, b.url],
      credentials,
      concurrency: 20,
      sourceBlock: 240,
    });
    acked = (await load.done).filter((r) => r.status === 200);

    // The popup opens on the instance that did not get the callback.
    const clients = new Map([
      [a.url, new BrowserSession(b.url, BENCH_DEMO_EMAIL, BENCH_DEMO_PASSWORD)],
      [b.url, new BrowserSession(a.url, BENCH_DEMO_EMAIL, BENCH_DEMO_PASSWORD)],
    ]);
    const back = (r: CallbackResult) =>
      `${credentials.find((c) => c.key === r.key)?.storeBaseUrl ?? ''}admin/`;
    const linkOne = async (r: CallbackResult) => {
      const client = clients.get(r.target) as BrowserSession;
      const linked = await client.link(r.key, back(r));
      if (!linked.ok) return { key: r.key, outcome: linked.why };
      return { key: r.key, outcome: await client.waitForSuccess(linked.progress, back(r), 20_000) };
    };
    // A browser's first two links in order (login, then a CSRF cookie for the new session), the rest at once.
    const firsts = [a.url, b.url].flatMap((t) => acked.filter((r) => r.target === t).slice(0, 2));
    const outcomes = [];
    for (const r of firsts) outcomes.push(await linkOne(r));
    outcomes.push(
      ...(await mapLimit(
        acked.filter((r) => !firsts.includes(r)),
        20,
        linkOne,
      )),
    );

    await settleStore(store, ACTIVATIONS, 30_000);
    const stats = await store.stats(true);
    let storage = 'readable';
    const records = await readStoredIntegrations({
      dataDir: dirs[0] ?? '',
      encryptionKey,
      databaseUrl: db.url,
    }).catch((error: Error) => {
      storage = error.message;
      return [];
    });
    const byKey = new Map(records.map((r) => [r.consumerKey, r]));

    expect({
      acknowledged: acked.length,
      notRedirectedToStore: few(outcomes.filter((o) => o.outcome !== 'redirected')),
      notExactlyOneAccessToken: few(
        credentials
          .filter((c) => stats.keys?.[c.key]?.accessTokens !== 1)
          .map((c) => ({ key: c.key, issued: stats.keys?.[c.key]?.accessTokens ?? 0 })),
      ),
      storage,
      notActive: few(
        credentials
          .filter((c) => byKey.get(c.key)?.status !== 'active')
          .map((c) => ({ key: c.key, status: byKey.get(c.key)?.status ?? 'missing' })),
      ),
      notLinked: few(credentials.filter((c) => !byKey.get(c.key)?.linked).map((c) => c.key)),
    }).toEqual({
      acknowledged: ACTIVATIONS,
      notRedirectedToStore: none,
      notExactlyOneAccessToken: none,
      storage: 'readable',
      notActive: none,
      notLinked: none,
    });
  }, 120_000);

  it('finishes the syncs of an instance killed with -9 on the other one, never both at once', async () => {
    // Slower answers, then a sync of every store asked for on one instance: kill it while they run.
    // Long enough that runs are in flight at the kill, short enough for every entity of 200 stores.
    await store.configure({ restLatencyMs: 600 });
    await waitUntil(async () => (await store.stats(false)).totals.restInFlight === 0, 30_000, 250);
    const browser = new BrowserSession(a.url, BENCH_DEMO_EMAIL, BENCH_DEMO_PASSWORD);
    await browser.logIn();
    const asked = new Date().toISOString();
    const answers = await mapLimit(credentials, 20, (c) => browser.syncNow(c.key));
    const syncsRunning = await waitUntil(
      async () => (await store.stats(false)).totals.restInFlight > 0,
      20_000,
      50,
    );
    a.kill('SIGKILL');
    await a.exited;
    const survivors = a.survivors();

    let storage = 'readable';
    const wanted = credentials.flatMap((c) => ENTITIES.map((e) => `${c.key}:${e}`));
    let unfinished = wanted;
    await waitUntil(
      async () => {
        try {
          const runs = await readSyncRuns({ dataDir: dirs[1] ?? '', encryptionKey, databaseUrl: db.url });
          const done = new Set(
            runs.filter((r) => r.ok && r.startedAt >= asked).map((r) => `${r.storeKey}:${r.entity}`),
          );
          unfinished = wanted.filter((k) => !done.has(k));
          return unfinished.length === 0;
        } catch (error) {
          storage = (error as Error).message;
          return true;
        }
      },
      120_000,
      1000,
    );
    const stats = await store.stats(true);
    const overlapping = Object.entries(stats.keys ?? {})
      .filter(([, s]) => s.overlaps > 0)
      .map(([key, s]) => ({ key, overlaps: s.overlaps }));

    expect({
      syncAnswers: tally(answers),
      syncsRunningAtKill: syncsRunning,
      survivors,
      storage,
      syncsNotFinished: few(unfinished),
      sameStoreAndEntityAtOnce: few(overlapping),
    }).toEqual({
      syncAnswers: { 202: ACTIVATIONS },
      syncsRunningAtKill: true,
      survivors: [],
      storage: 'readable',
      syncsNotFinished: none,
      sameStoreAndEntityAtOnce: none,
    });
  }, 210_000);
});
