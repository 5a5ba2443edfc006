import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openStorage } from '../../../src/storage/open.js';
import type { Storage } from '../../../src/storage/types.js';
import { setWebhookSettings, WebhookSettingsError } from '../../../src/sync/webhooks/webhook-settings.js';
import { runCli } from '../../helpers/cli.js';
import { rsaPair } from '../../helpers/webhooks.js';

let dir: string;
let storage: Storage;
const key = 'k'.repeat(32);
const now = new Date().toISOString();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'webhook-key-'));
  ({ storage } = await openStorage({ dataDir: dir, envKey: undefined, production: false }));
  await storage.integrations.create({
    consumerKey: key,
    storeBaseUrl: 'http://store.test/',
    storeOrigin: 'http://store.test',
    status: 'active',
    consumerSecret: 's'.repeat(32),
    verifier: 'v'.repeat(32),
    accessToken: 't'.repeat(32),
    accessTokenSecret: 'u'.repeat(32),
    signatureMethod: 'HMAC-SHA256',
    receivedAt: now,
    callbackCount: 1,
    createdAt: now,
    updatedAt: now,
    events: [],
    history: [],
  });
});
afterAll(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a store’s webhook keys', () => {
  const good = rsaPair();

  it('refuse anything but an RSA public key of 2,048 bits or more, and store nothing then', async () => {
    const pkcs8 = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const small = rsaPair(1024).publicPem;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const cases: [string, RegExp][] = [
      [pkcs8, /private key/],
      [small, /1024 bits; at least 2048/],
      [ec, /That is an ec key; webhook signatures are RSA-SHA256/],
      ['not a key', /PEM text/],
      [good.publicPem.replace(/[A-Z]{8}/, 'AAAAAAAA'), /could not be read|RSA|bits/],
    ];
    for (const [pem, message] of cases) {
      const attempt = setWebhookSettings(storage.integrations, key, { commercePublicKey: pem });
      await expect(attempt).rejects.toThrow(WebhookSettingsError);
      await expect(attempt).rejects.toThrow(message);
    }
    await expect(
      setWebhookSettings(storage.integrations, key, {
        ioEvents: { clientId: 'bad id!', publicKeys: [good.publicPem] },
      }),
    ).rejects.toThrow(/client id/);
    expect((await storage.integrations.get(key))?.webhooks).toBeUndefined();
  });

  it('are kept with the integration, changed one kind at a time, and cleared', async () => {
    const io = rsaPair();
    await setWebhookSettings(storage.integrations, key, { commercePublicKey: `\n${good.publicPem}\n` });
    await setWebhookSettings(storage.integrations, key, {
      ioEvents: { clientId: 'client-1', publicKeys: [io.publicPem] },
    });
    const stored = (await storage.integrations.get(key))?.webhooks;
    expect(stored).toMatchObject({
      commercePublicKey: good.publicPem.trim(),
      ioEvents: { clientId: 'client-1', publicKeys: [io.publicPem.trim()] },
    });
    await setWebhookSettings(storage.integrations, key, { commercePublicKey: null });
    expect((await storage.integrations.get(key))?.webhooks?.commercePublicKey).toBeUndefined();
    await setWebhookSettings(storage.integrations, key, { ioEvents: null });
    expect((await storage.integrations.get(key))?.webhooks).toBeUndefined();
  });
});

describe('npm run store -- webhook-key', () => {
  it('sets the key from a file and prints the URL to give the store; refuses a private key', async () => {
    // The CLI opens the same folder beside this test's storage (as beside a running server).
    const file = path.join(dir, 'store.pem');
    await writeFile(file, rsaPair().publicPem);
    const env = { DATA_DIR: dir, NODE_ENV: 'test', PUBLIC_URL: 'https://connector.example.com' };
    const ok = await runCli('store', ['webhook-key', '--commerce', file], env);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`https://connector.example.com/magento/webhooks/${key}`);
    const bad = path.join(dir, 'private.pem');
    await writeFile(
      bad,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const refused = await runCli('store', ['webhook-key', '--commerce', bad], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/private key/);
    const none = await runCli('store', ['webhook-key'], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/Nothing to set/);
  });
});
