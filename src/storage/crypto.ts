import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.js';
import { createLogger } from '../config/logger.js';

/**
 * Secrets at rest: AES-256-GCM, one fresh IV per value, `<version>:<iv>:<tag>:<ciphertext>` (base64url).
 * v1: no additional data. v2: the record's context (e.g. `integrations/<key>/consumerSecret`) is the
 * GCM additional authenticated data, so a value copied into another record or field fails to
 * decrypt instead of handing one store's secret to another.
 */

export const KEY_BYTES = 32;
export const KEY_FILE_NAME = 'encryption.key';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD_LABEL = 'magento-connector secret v2\0';

export class DecryptionError extends AppError {
  override name = 'DecryptionError';
  declare readonly code: 'decryption_failed';
  constructor(message: string, options?: ErrorOptions) {
    super('decryption_failed', message, options);
  }
}

/** Stored secrets carry another key's fingerprint: the key is wrong, the data is not damaged. */
export class DifferentKeyError extends AppError {
  override name = 'DifferentKeyError';
  declare readonly code: 'different_encryption_key';
  constructor(message: string, options?: ErrorOptions) {
    super('different_encryption_key', message, options);
  }
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES)
    throw new Error(`Encryption key must be ${KEY_BYTES} bytes, got ${key.length}.`);
}

/** What an integration's secret is bound to: a ciphertext moved to another record or field fails. */
export const secretContext = (consumerKey: string, field: string) => `integration:${consumerKey}:${field}`;

const aad = (context: string) => Buffer.from(AAD_LABEL + context, 'utf8');

/**
 * IVs cut from a buffer of CSPRNG bytes refilled when used up (each byte used once): one
 * randomBytes call per 341 secrets instead of one each, which shows in a burst of callbacks.
 */
let ivPool = Buffer.alloc(0);
let ivOffset = 0;
function freshIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    // A new buffer rather than a refill: IVs handed out earlier keep their bytes.
    ivPool = randomBytes(IV_BYTES * 341);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/** v2 bound to `context` when one is given; v1 (unbound, as written before contexts) otherwise. */
export function encryptSecret(plain: string, key: Buffer, context?: string): string {
  checkKey(key);
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (context !== undefined) cipher.setAAD(aad(context));
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  const version = context === undefined ? 'v1' : 'v2';
  return [version, ...[iv, tag, ciphertext].map((b) => b.toString('base64url'))].join(':');
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * A v2 value decrypts only with the context it was written with. A v1 value has none to check and
 * decrypts whatever context is given; writing it again binds it.
 */
export function decryptSecret(value: string, key: Buffer, context?: string): string {
  checkKey(key);
  const parts = value.split(':');
  const version = parts[0];
  if (
    parts.length !== 4 ||
    (version !== 'v1' && version !== 'v2') ||
    !parts.slice(1).every((p) => B64URL.test(p))
  ) {
    throw new DecryptionError('Not an encrypted secret (expected v1 or v2:<iv>:<tag>:<ciphertext>).');
  }
  const [, ivText = '', tagText = '', ctText = ''] = parts;
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new DecryptionError('Not an encrypted secret (bad IV or tag length).');
  }
  if (version === 'v2' && context === undefined) {
    throw new DecryptionError('This secret is bound to its record; decrypt it with the record context.');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  if (version === 'v2') decipher.setAAD(aad(context as string));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    // GCM cannot tell these apart: all fail the authentication tag.
    throw new DecryptionError(
      'Could not decrypt a secret: it was tampered with, copied from another record, or encrypted with a different key.',
    );
  }
}

/**
 * A short, non-reversible fingerprint of the key, stored beside encrypted data so that a wrong key is
 * reported as such instead of as tampering.
 */
export function keyFingerprint(key: Buffer): string {
  checkKey(key);
  return createHmac('sha256', key)
    .update('magento-connector key fingerprint v1')
    .digest('base64url')
    .slice(0, 22);
}

/** Accepts 64 hex characters or base64 (standard or url-safe) of exactly 32 bytes; returns undefined otherwise. */
export function parseKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  return undefined;
}

/** The part of a pino logger used here; a plain object works too. */
export interface WarnLogger {
  warn(details: object, message: string): void;
}

export interface LoadKeyOptions {
  dataDir: string;
  /** TOKEN_ENCRYPTION_KEY, when set. */
  envKey?: string | undefined;
  production: boolean;
  logger?: WarnLogger;
}

/**
 * The key from TOKEN_ENCRYPTION_KEY, or (outside production) from `DATA_DIR/encryption.key`,
 * generated on first start.
 */
export async function loadOrCreateKey(options: LoadKeyOptions): Promise<Buffer> {
  if (options.envKey !== undefined && options.envKey !== '') {
    const key = parseKey(options.envKey);
    if (!key) {
      throw new Error(
        'TOKEN_ENCRYPTION_KEY must be 64 hex characters or the base64 of 32 bytes (generate one with: openssl rand -hex 32).',
      );
    }
    return key;
  }
  if (options.production) throw new Error('TOKEN_ENCRYPTION_KEY is required in production');

  const logger = options.logger ?? createLogger({ name: 'storage' });
  // 0700 when we create it: only this user should reach the key.
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dataDir, KEY_FILE_NAME);
  const key = randomBytes(KEY_BYTES);
  try {
    // 'wx' fails if the file exists, so of two processes starting together exactly one creates it.
    await writeKeyFile(file, key);
    logger.warn(
      { file },
      'Generated a new token encryption key file; keep it with db.json, and set TOKEN_ENCRYPTION_KEY in production.',
    );
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readKeyFile(file, logger);
}

/**
 * Writes a key file (hex, 0600, fsync'd), failing with EEXIST if it exists; 'wx' makes exactly one of
 * two processes creating it together succeed. Nothing is left behind when the write fails.
 */
export async function writeKeyFile(file: string, key: Buffer): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(`${key.toString('hex')}\n`);
    await handle.sync();
  } catch (error) {
    // An empty key file would block every later start.
    await handle.close();
    await unlink(file).catch(() => undefined);
    throw error;
  }
  await handle.close();
}

async function readKeyFile(file: string, logger: WarnLogger): Promise<Buffer> {
  // The creator may not have written the content yet: retry briefly before calling the file invalid.
  for (let attempt = 0; ; attempt++) {
    const key = parseKey(await readFile(file, 'utf8'));
    if (key) {
      if (process.platform !== 'win32' && ((await stat(file)).mode & 0o077) !== 0) {
        logger.warn({ file }, 'The token encryption key file is readable by other users; chmod 600 it.');
      }
      return key;
    }
    if (attempt >= 40) {
      throw new Error(
        `${file} does not hold a valid key (64 hex characters); restore it, or delete it if no secrets were stored with it.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
