/**
 * Write cost of the embedded storage with many integrations stored:
 * `node --import tsx test/storage/embedded-bench.ts [stored=10000] [concurrent=100] [rounds=10]`.
 * Prints the time for `concurrent` integration puts at once (each resolves once fsync'd), alone and with a
 * second instance on the same folder writing too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createEmbeddedStorage, type EmbeddedStorage } from '../../src/storage/embedded/embedded-storage.js';
import type { IntegrationRecord } from '../../src/storage/types.js';

const [stored = 10_000, concurrent = 100, rounds = 10] = process.argv.slice(2).map(Number);
const key = Buffer.alloc(32, 7);

function integration(consumerKey: string, n: number): IntegrationRecord {
  const at = new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString();
  return {
    consumerKey,
    storeBaseUrl: `http://store-${n % 500}.test/`,
    storeOrigin: `http://store-${n % 500}.test`,
    status: 'active',
    consumerSecret: `cs-${consumerKey}-${'x'.repeat(24)}`,
    verifier: `v-${consumerKey}-${'y'.repeat(24)}`,
    accessToken: `at-${consumerKey}-${'z'.repeat(24)}`,
    accessTokenSecret: `ats-${consumerKey}-${'w'.repeat(24)}`,
    signatureMethod: 'HMAC-SHA256',
    receivedAt: at,
    activatedAt: at,
    callbackCount: n,
    createdAt: at,
    updatedAt: at,
    events: [
      { at, step: 'callback_received', ok: true },
      { at, step: 'request_token', ok: true },
      { at, step: 'access_token', ok: true },
    ],
    history: [],
  };
}

const ms = (t: number) => `${(performance.now() - t).toFixed(1)} ms`;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  return `median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`;
};

async function burst(storage: EmbeddedStorage, round: number): Promise<number> {
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrent }, (_, i) => {
      const n = (round * concurrent + i) % stored;
      return storage.integrations.put({ ...integration(`ck${n}`, n), callbackCount: round });
    }),
  );
  return performance.now() - t;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'mic-bench-'));
try {
  let t = performance.now();
  const storage = await createEmbeddedStorage({ dataDir: dir, key });
  for (let i = 0; i < stored; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, stored - i) }, (_, j) =>
        storage.integrations.put(integration(`ck${i + j}`, i + j)),
      ),
    );
  }
  console.log(`setup: ${stored} integrations stored in ${ms(t)}`, storage.journalStats().db);
  await storage.close();

  t = performance.now();
  const a = await createEmbeddedStorage({ dataDir: dir, key });
  console.log(`open with ${stored} integrations: ${ms(t)}`);
  await burst(a, 0);
  const alone: number[] = [];
  for (let r = 1; r <= rounds; r++) alone.push(await burst(a, r));
  console.log(`${concurrent} concurrent puts, one instance: ${stats(alone)}`);

  const b = await createEmbeddedStorage({ dataDir: dir, key });
  const shared: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const [x, y] = await Promise.all([burst(a, r + 100), burst(b, r + 200)]);
    shared.push(x, y);
  }
  console.log(`${concurrent} concurrent puts in each of two instances at once: ${stats(shared)}`);
  console.log('instance a:', a.journalStats().db);

  // What `npm run user -- add` beside the running server costs: open, one write, close (which folds the
  // journal into db.json when it is a real part of the data), then the server's next burst.
  t = performance.now();
  const cli = await createEmbeddedStorage({ dataDir: dir, key });
  await cli.users.create({
    id: 'u1',
    email: 'a@b.co',
    passwordHash: 'h',
    createdAt: new Date().toISOString(),
  });
  await cli.close();
  console.log(`a second process: open, add a user, close: ${ms(t)}`);
  t = performance.now();
  await burst(a, 999);
  console.log(`next burst in the server (following its changes): ${ms(t)}`, a.journalStats().db);
  await Promise.all([a.close(), b.close()]);
} finally {
  await rm(dir, { recursive: true, force: true });
}
