import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  DecryptionError,
  decryptSecret,
  encryptSecret,
  KEY_FILE_NAME,
  loadOrCreateKey,
  parseKey,
} from '../../src/storage/crypto.js';

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);

/** Collects warnings so tests stay quiet and can check what was logged. */
function recorder() {
  const lines: string[] = [];
  return {
    lines,
    logger: { warn: (details: object, message: string) => lines.push(message + JSON.stringify(details)) },
  };
}

function flipByte(value: string, part: number): string {
  const parts = value.split(':');
  const bytes = Buffer.from(parts[part] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join(':');
}

describe('ciphertexts bound to their record (context as AES-GCM additional data)', () => {
  it('round-trips with the same context, as v2:<iv>:<tag>:<ciphertext>', () => {
    const value = encryptSecret('token-secret', key, 'integrations/abc/accessTokenSecret');
    expect(value).toMatch(/^v2:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]*$/);
    expect(decryptSecret(value, key, 'integrations/abc/accessTokenSecret')).toBe('token-secret');
  });

  it('refuses a secret copied to another record or field, or read without its context', () => {
    const value = encryptSecret('token-secret', key, 'integrations/abc/accessTokenSecret');
    for (const other of ['integrations/evil/accessTokenSecret', 'integrations/abc/consumerSecret', '']) {
      expect(() => decryptSecret(value, key, other)).toThrow(DecryptionError);
    }
    expect(() => decryptSecret(value, key)).toThrow(/context/);
  });

  it('still decrypts a v1 value written without a context, with or without one given', () => {
    const old = encryptSecret('legacy', key);
    expect(old.startsWith('v1:')).toBe(true);
    expect(decryptSecret(old, key)).toBe('legacy');
    expect(decryptSecret(old, key, 'integrations/abc/consumerSecret')).toBe('legacy');
  });
});

describe('encryptSecret / decryptSecret', () => {
  it('round-trips, including empty and non-ASCII text', () => {
    for (const plain of ['s3cret-consumer-secret', '', 'pässwörd ✓ 🔑']) {
      expect(decryptSecret(encryptSecret(plain, key), key)).toBe(plain);
    }
  });

  it('produces v1:<iv>:<tag>:<ciphertext> with a fresh 12-byte IV each time', () => {
    const a = encryptSecret('same', key);
    const b = encryptSecret('same', key);
    expect(a).toMatch(/^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]*$/);
    expect(a).not.toBe(b);
    const [, iv = '', tag = ''] = a.split(':');
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    expect(a).not.toContain('same');
  });

  it('never repeats an IV, across refills of its pool of random bytes', () => {
    const values = Array.from({ length: 2_000 }, (_, i) => encryptSecret(`secret-${i}`, key, `ctx-${i}`));
    const ivs = new Set(values.map((v) => v.split(':')[1]));
    expect(ivs.size).toBe(values.length);
    values.forEach((v, i) => expect(decryptSecret(v, key, `ctx-${i}`)).toBe(`secret-${i}`));
  });

  it.each([
    ['ciphertext', 3],
    ['tag', 2],
    ['iv', 1],
  ])('detects a flipped byte in the %s', (_name, part) => {
    const tampered = flipByte(encryptSecret('consumer-secret-value', key), part);
    expect(() => decryptSecret(tampered, key)).toThrow(DecryptionError);
    expect(() => decryptSecret(tampered, key)).toThrow(/tampered with/);
  });

  it('names a wrong key', () => {
    expect(() => decryptSecret(encryptSecret('x', key), otherKey)).toThrow(/different key/);
  });

  it('refuses values that are not encrypted secrets', () => {
    for (const value of ['plain text', 'v2:a:b:c', 'v1:a:b', 'v1:!!:b:c']) {
      expect(() => decryptSecret(value, key)).toThrow(/Not an encrypted secret/);
    }
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => encryptSecret('x', Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe('parseKey', () => {
  it('accepts 64 hex characters and base64 (standard or url-safe) of 32 bytes', () => {
    const raw = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 8 + 3));
    expect(parseKey(raw.toString('hex'))).toEqual(raw);
    expect(parseKey(raw.toString('base64'))).toEqual(raw);
    expect(parseKey(raw.toString('base64url'))).toEqual(raw);
    expect(parseKey(` ${raw.toString('hex')}\n`)).toEqual(raw);
  });

  it('rejects anything else', () => {
    for (const value of ['', 'abc', 'z'.repeat(64), 'a'.repeat(63), Buffer.alloc(31).toString('base64')]) {
      expect(parseKey(value)).toBeUndefined();
    }
  });
});

describe('loadOrCreateKey', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mic-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('uses TOKEN_ENCRYPTION_KEY (hex or base64) and writes no file', async () => {
    const raw = Buffer.alloc(32, 0xab);
    for (const envKey of [raw.toString('hex'), raw.toString('base64')]) {
      expect(await loadOrCreateKey({ dataDir: dir, envKey, production: true })).toEqual(raw);
    }
    await expect(stat(path.join(dir, KEY_FILE_NAME))).rejects.toThrow(/ENOENT/);
  });

  it('rejects an invalid TOKEN_ENCRYPTION_KEY by name, without echoing it', async () => {
    const envKey = 'not-a-key-but-a-secretish-value';
    const error = await loadOrCreateKey({ dataDir: dir, envKey, production: false }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^TOKEN_ENCRYPTION_KEY must be 64 hex characters/);
    expect((error as Error).message).not.toContain(envKey);
  });

  it('requires TOKEN_ENCRYPTION_KEY in production', async () => {
    await expect(loadOrCreateKey({ dataDir: dir, production: true })).rejects.toThrow(
      'TOKEN_ENCRYPTION_KEY is required in production',
    );
    await expect(loadOrCreateKey({ dataDir: dir, envKey: '', production: true })).rejects.toThrow(
      'TOKEN_ENCRYPTION_KEY is required in production',
    );
  });

  it('creates DATA_DIR/encryption.key with mode 0600 and reuses it on the next start', async () => {
    const dataDir = path.join(dir, 'nested', 'data');
    const { lines, logger } = recorder();
    const first = await loadOrCreateKey({ dataDir, production: false, logger });
    const file = path.join(dataDir, KEY_FILE_NAME);
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(parseKey(await readFile(file, 'utf8'))).toEqual(first);
    expect(lines).toHaveLength(1);
    expect(lines.join()).not.toContain(first.toString('hex'));

    const second = await loadOrCreateKey({ dataDir, production: false, logger });
    expect(second).toEqual(first);
    expect(lines).toHaveLength(1);
  });

  it('gives every concurrent caller the same key', async () => {
    const { logger } = recorder();
    const keys = await Promise.all(
      Array.from({ length: 20 }, () => loadOrCreateKey({ dataDir: dir, production: false, logger })),
    );
    const file = parseKey(await readFile(path.join(dir, KEY_FILE_NAME), 'utf8'));
    for (const k of keys) expect(k).toEqual(file);
  });

  it('refuses a key file that does not hold a key', async () => {
    await writeFile(path.join(dir, KEY_FILE_NAME), 'garbage\n', { mode: 0o600 });
    await expect(
      loadOrCreateKey({ dataDir: dir, production: false, logger: recorder().logger }),
    ).rejects.toThrow(/does not hold a valid key/);
  }, 10_000);
});
