import { describe, expect, it } from '@jest/globals';
import {
  hashPassword,
  needsRehash,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  validatePassword,
  verifyPassword,
} from '../../src/accounts/password.js';

describe('hashPassword / verifyPassword', () => {
  it('writes scrypt$131072$8$1$<16-byte salt>$<64-byte hash> (OWASP minimum) with a fresh salt', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    const parts = a.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '131072', '8', '1']);
    expect(parts).toHaveLength(6);
    expect(Buffer.from(parts[4] ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(parts[5] ?? '', 'base64')).toHaveLength(64);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
  });

  it('verifies the right password and refuses others', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('reads the parameters from the stored value', async () => {
    const { scrypt } = await import('node:crypto');
    const salt = Buffer.alloc(16, 9);
    const hash = await new Promise<Buffer>((resolve, reject) =>
      scrypt('pw-with-other-params', salt, 32, { N: 1024, r: 4, p: 2 }, (e, k) =>
        e ? reject(e) : resolve(k),
      ),
    );
    const stored = `scrypt$1024$4$2$${salt.toString('base64')}$${hash.toString('base64')}`;
    expect(await verifyPassword('pw-with-other-params', stored)).toBe(true);
    expect(await verifyPassword('something else', stored)).toBe(false);
  });

  it('still verifies a hash written at the old cost, and asks for it to be rehashed', async () => {
    const { scrypt } = await import('node:crypto');
    const salt = Buffer.alloc(16, 3);
    const hash = await new Promise<Buffer>((resolve, reject) =>
      scrypt('an old password', salt, 64, { N: 16384, r: 8, p: 1 }, (e, k) => (e ? reject(e) : resolve(k))),
    );
    const old = `scrypt$16384$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
    expect(await verifyPassword('an old password', old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash(await hashPassword('a new password'))).toBe(false);
    for (const unreadable of ['', 'plain-text', 'bcrypt$2b$10$abc', 'scrypt$x$8$1$a$b']) {
      expect(needsRehash(unreadable)).toBe(true);
    }
  });

  it('answers false, without throwing, for a malformed stored value', async () => {
    const good = await hashPassword('correct horse battery');
    const [, , , , salt, hash] = good.split('$');
    const malformed = [
      '',
      'plain-text-password',
      'scrypt$16384$8$1$',
      `bcrypt$16384$8$1$${salt}$${hash}`,
      `scrypt$16383$8$1$${salt}$${hash}`,
      `scrypt$abc$8$1$${salt}$${hash}`,
      `scrypt$16384$8$1$${salt}$${hash}$extra`,
      `scrypt$16384$8$0$${salt}$${hash}`,
      `scrypt$1048576$64$1$${salt}$${hash}`,
      `scrypt$16384$8$1$***$${hash}`,
      `scrypt$16384$8$1$${salt}$AAAA`,
      undefined as unknown as string,
    ];
    for (const stored of malformed) {
      await expect(verifyPassword('correct horse battery', stored)).resolves.toBe(false);
    }
  });
});

describe('validatePassword', () => {
  it(`accepts ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`, () => {
    expect(validatePassword('a'.repeat(PASSWORD_MIN_LENGTH))).toBeUndefined();
    expect(validatePassword('a'.repeat(PASSWORD_MAX_LENGTH))).toBeUndefined();
  });

  it('says what is wrong', () => {
    expect(validatePassword('a'.repeat(9))).toBe('Password must be at least 10 characters long.');
    expect(validatePassword('')).toBe('Password must be at least 10 characters long.');
    expect(validatePassword('a'.repeat(201))).toBe('Password must be at most 200 characters long.');
  });

  it('counts characters, not UTF-16 units', () => {
    expect(validatePassword('🔑'.repeat(9))).toMatch(/at least 10/);
    expect(validatePassword('🔑'.repeat(10))).toBeUndefined();
  });
});
