import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { ActivationService } from '../../src/activation/activation-service.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/types.js';

let dir: string;
let storage: Storage;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'junk-'));
  ({ storage } = await openStorage({ dataDir: dir, envKey: undefined, production: false }));
});
afterAll(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const credential = (n: number, salt: string) => `${salt}${String(n).padStart(32 - salt.length, '0')}`;

describe('anonymous junk callbacks', () => {
  it('are pruned once their exchange failed and the retention passed, unless someone linked them', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const activation = new ActivationService({
      integrations: storage.integrations,
      notices: storage.notices,
      // No store ever issues tokens for a made-up key.
      exchange: async () => {
        throw new Error('Consumer key not found (the store does not know it).');
      },
      signatureMethod: 'HMAC-SHA256',
      logger: pino({ level: 'silent' }),
      clock: () => new Date(now),
      candidateRetentionSeconds: 600,
      sweepSeconds: 0.05,
    });
    const keys = Array.from({ length: 115 }, (_, i) => credential(i, 'junk'));
    for (const [i, key] of keys.entries()) {
      await activation.receiveCallback({
        oauth_consumer_key: key,
        oauth_consumer_secret: credential(i, 'sec'),
        oauth_verifier: credential(i, 'ver'),
        store_base_url: `https://shop${i}.example.com/`,
      });
    }
    for (const key of keys) expect((await activation.settled(key))?.status).toBe('failed');
    // A user did log in for one of them: that one is kept for them to see why it failed.
    await activation.linkUser(keys[0]!, 'user-1');
    await activation.start();
    // Within the retention nothing goes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await storage.integrations.list()).toHaveLength(115);
    now += 601_000;
    const deadline = Date.now() + 10_000;
    while ((await storage.integrations.list()).length > 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await activation.close();
    expect((await storage.integrations.list()).map((r) => r.consumerKey)).toEqual([keys[0]]);
  });
});
