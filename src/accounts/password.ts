import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;

// OWASP's minimum for scrypt (Password Storage Cheat Sheet): N=2^17, r=8, p=1, i.e. 128 MiB per hash.
const N = 2 ** 17;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 64;

function derive(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keylen, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$<salt b64>$<hash b64>`: the parameters travel with the hash so they can be raised later. */
export async function hashPassword(plain: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(plain, salt, KEY_BYTES, { N, r: R, p: P, maxmem: maxmem(N, R) });
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

// scrypt needs 128·N·r bytes; Node refuses more than maxmem (32 MiB by default).
const maxmem = (n: number, r: number) => 256 * n * r + 1024 * 1024;

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface ParsedHash {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** The parts of `scrypt$N$r$p$salt$hash`, or undefined for anything else. */
function parseHash(stored: unknown): ParsedHash | undefined {
  const parts = typeof stored === 'string' ? stored.split('$') : [];
  const [scheme, nText, rText, pText, saltText = '', hashText = ''] = parts;
  if (parts.length !== 6 || scheme !== 'scrypt' || !B64.test(saltText) || !B64.test(hashText))
    return undefined;
  if (![nText, rText, pText].every((t) => /^\d{1,8}$/.test(t ?? ''))) return undefined;
  const [n, r, p] = [Number(nText), Number(rText), Number(pText)];
  // Bounds keep a hostile stored value from asking for unbounded memory or time.
  if (n < 2 || (n & (n - 1)) !== 0 || r < 1 || p < 1 || p > 16 || 128 * n * r > 128 * 2 ** 20)
    return undefined;
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length === 0 || hash.length < 16 || hash.length > 128) return undefined;
  return { n, r, p, salt, hash };
}

/** False for a wrong password and for a stored value it cannot read; never throws. */
export async function verifyPassword(plain: string, stored: string): Promise<boolean> {
  try {
    const parsed = parseHash(stored);
    if (!parsed) return false;
    const { n, r, p, salt, hash: expected } = parsed;
    const actual = await derive(String(plain), salt, expected.length, { N: n, r, p, maxmem: maxmem(n, r) });
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

/**
 * True when a stored hash was not written with today's parameters (an older, cheaper cost) or
 * cannot be read: after a successful login, hash the password again and store the result.
 */
export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  return !parsed || parsed.n !== N || parsed.r !== R || parsed.p !== P || parsed.hash.length !== KEY_BYTES;
}

/** The reason a password is refused, or undefined when it is acceptable. */
export function validatePassword(plain: string): string | undefined {
  // Code points, so an emoji counts as one character.
  const length = [...plain].length;
  if (length < PASSWORD_MIN_LENGTH)
    return `Password must be at least ${PASSWORD_MIN_LENGTH} characters long.`;
  if (length > PASSWORD_MAX_LENGTH) return `Password must be at most ${PASSWORD_MAX_LENGTH} characters long.`;
  return undefined;
}
