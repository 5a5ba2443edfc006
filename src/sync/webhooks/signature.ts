import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Shortest RSA modulus accepted: NIST's floor since 2013 (Commerce generates 2048-bit pairs). */
const MIN_RSA_BITS = 2048;
const PEM = /^-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\s*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A PEM public key as the store's admin shows it, or the reason it is not one. Only SubjectPublicKeyInfo
 * PEM ("BEGIN PUBLIC KEY"): node would also accept a private key here and derive its public half, and a
 * private key pasted by mistake must be refused, not stored.
 */
export function parsePublicKey(text: string): KeyObject | { error: string } {
  const pem = text.trim();
  if (pem.length > 10_000) return { error: 'The public key is longer than 10,000 characters.' };
  if (/PRIVATE KEY/.test(pem))
    return { error: 'That is a private key; paste the public key (BEGIN PUBLIC KEY) instead.' };
  if (!PEM.test(`${pem}\n`))
    return {
      error: 'The public key must be PEM text from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----.',
    };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return { error: 'The public key PEM could not be read; copy it again, whole.' };
  }
  if (key.asymmetricKeyType !== 'rsa')
    return {
      error: `That is an ${key.asymmetricKeyType ?? 'unknown'} key; webhook signatures are RSA-SHA256.`,
    };
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS)
    return { error: `The RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are needed.` };
  return key;
}

const parsed = new Map<string, KeyObject>();

/** Parsed keys by PEM text (configured keys are few; parsing one costs more than a verify). */
export function publicKeyOf(pem: string): KeyObject | undefined {
  const cached = parsed.get(pem);
  if (cached) return cached;
  const key = parsePublicKey(pem);
  if ('error' in key) return undefined;
  if (parsed.size >= 1000) parsed.clear();
  parsed.set(pem, key);
  return key;
}

/** Whether `signature` (base64, as the header carries it) is an RSA-SHA256 signature of `body` by `key`. */
export function verifyRsaSha256(body: Buffer, signature: string, key: KeyObject): boolean {
  const text = signature.trim();
  // A 4096-bit signature is 684 base64 characters; anything much longer is not one.
  if (text.length === 0 || text.length > 2048 || !BASE64.test(text)) return false;
  try {
    return verify('sha256', body, key, Buffer.from(text, 'base64'));
  } catch {
    return false;
  }
}
