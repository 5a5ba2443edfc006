import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadOrCreateKey, parseKey } from '../../src/storage/crypto.js';
import { createEmbeddedStorage } from '../../src/storage/embedded/embedded-storage.js';
import { rotateStorageKey } from '../../src/storage/rotate-key.js';
import type { IntegrationRecord } from '../../src/storage/types.js';
import { runCli } from '../helpers/cli.js';

const at = new Date('2026-01-01T00:00:00Z').toISOString();
const record: IntegrationRecord = {
  consumerKey: 'k'.repeat(32),
  storeBaseUrl: 'http://store.test/',
  storeOrigin: 'http://store.test',
  status: 'active',
  consumerSecret: 'consumer-secret-value',
  verifier: 'verifier-value',
  accessToken: 'access-token-value',
  accessTokenSecret: 'access-token-secret-value',
  signatureMethod: 'HMAC-SHA256',
  receivedAt: at,
  callbackCount: 1,
  createdAt: at,
  updatedAt: at,
  events: [],
  history: [],
};

describe('npm run key -- rotate (embedded files)', () => {
  let dataDir: string;
  const env = (extra: Record<string, string | undefined> = {}) => ({
    DATA_DIR: dataDir,
    NODE_ENV: 'test',
    DATABASE_URL: undefined,
    TOKEN_ENCRYPTION_KEY: undefined,
    NEW_TOKEN_ENCRYPTION_KEY: undefined,
    ...extra,
  });
  const keyFile = () => path.join(dataDir, 'encryption.key');
  const nextFile = () => path.join(dataDir, 'encryption.key.next');
  const readKey = async (file: string) => parseKey(await readFile(file, 'utf8'))!;
  async function seed(key: Buffer) {
    const storage = await createEmbeddedStorage({ dataDir, key });
    await storage.integrations.create(record);
    await storage.close();
  }
  async function readWith(key: Buffer) {
    const storage = await createEmbeddedStorage({ dataDir, key });
    try {
      return await storage.integrations.get(record.consumerKey);
    } finally {
      await storage.close();
    }
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mic-key-cli-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('with the development key file: generates a new key, re-encrypts, and replaces the file', async () => {
    const oldKey = await loadOrCreateKey({ dataDir, production: false, logger: { warn: () => undefined } });
    await seed(oldKey);

    const run = await runCli('key', ['rotate'], env());
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/Re-encrypted 4 secrets of 1 integrations/);
    const newKey = await readKey(keyFile());
    expect(newKey.equals(oldKey)).toBe(false);
    // Never printed: it lives in the key file only.
    expect(run.stdout + run.stderr).not.toContain(newKey.toString('hex'));
    expect((await stat(keyFile())).mode & 0o077).toBe(0);
    await expect(stat(nextFile())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readWith(newKey)).toEqual(record);
    await expect(readWith(oldKey)).rejects.toThrow(/different TOKEN_ENCRYPTION_KEY/);
  });

  it('with TOKEN_ENCRYPTION_KEY: the generated key waits in encryption.key.next for the operator', async () => {
    const oldKey = Buffer.alloc(32, 5);
    await seed(oldKey);
    const run = await runCli('key', ['rotate'], env({ TOKEN_ENCRYPTION_KEY: oldKey.toString('hex') }));
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/The new key is in .*encryption\.key\.next\. Set TOKEN_ENCRYPTION_KEY/);
    const newKey = await readKey(nextFile());
    expect((await stat(nextFile())).mode & 0o077).toBe(0);
    expect(await readWith(newKey)).toEqual(record);
    // No development key file appears beside an environment key.
    await expect(stat(keyFile())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes the new key from NEW_TOKEN_ENCRYPTION_KEY or a file, and refuses bad or equal ones', async () => {
    const oldKey = Buffer.alloc(32, 5);
    const newKey = Buffer.alloc(32, 6);
    await seed(oldKey);
    const current = { TOKEN_ENCRYPTION_KEY: oldKey.toString('hex') };

    const bad = await runCli('key', ['rotate'], env({ ...current, NEW_TOKEN_ENCRYPTION_KEY: 'abc' }));
    expect(bad).toMatchObject({ code: 1 });
    expect(bad.stderr).toMatch(/NEW_TOKEN_ENCRYPTION_KEY must be 64 hex characters/);
    const same = await runCli(
      'key',
      ['rotate'],
      env({ ...current, NEW_TOKEN_ENCRYPTION_KEY: oldKey.toString('hex') }),
    );
    expect(same).toMatchObject({ code: 1 });
    expect(same.stderr).toMatch(/the key in use/);
    expect(await readWith(oldKey)).toEqual(record);

    const file = path.join(dataDir, 'new.key');
    await writeFile(file, `${newKey.toString('base64')}\n`);
    const run = await runCli('key', ['rotate', '--new-key-file', file], env(current));
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/Set TOKEN_ENCRYPTION_KEY to the new key/);
    expect(await readWith(newKey)).toEqual(record);
  });

  it('says there is nothing to rotate when no key exists, and creates none', async () => {
    const run = await runCli('key', ['rotate'], env());
    expect(run).toMatchObject({ code: 1 });
    expect(run.stderr).toMatch(/No key to rotate/);
    await expect(stat(keyFile())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('run again after an interruption between the data and the key file, it finishes the switch', async () => {
    const oldKey = await loadOrCreateKey({ dataDir, production: false, logger: { warn: () => undefined } });
    await seed(oldKey);
    // As if killed after the data was committed on the generated key, before the key file was replaced.
    const newKey = Buffer.alloc(32, 9);
    await writeFile(nextFile(), `${newKey.toString('hex')}\n`, { mode: 0o600 });
    await rotateStorageKey({ dataDir, oldKey, newKey });

    const run = await runCli('key', ['rotate'], env());
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/on the new key already/);
    expect((await readKey(keyFile())).equals(newKey)).toBe(true);
    expect(await readWith(newKey)).toEqual(record);
  });
});
