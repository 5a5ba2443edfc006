import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { hashPassword, needsRehash, verifyPassword } from '../../src/accounts/password.js';
import { AccountError, AccountService, normaliseEmail } from '../../src/accounts/users.js';
import { createEmbeddedStorage } from '../../src/storage/embedded/embedded-storage.js';
import type { Storage } from '../../src/storage/types.js';

const PASSWORD = 'correct horse battery';

/** A scrypt hash in the stored format at a chosen cost, made without hashPassword. */
function hashAt(n: number, plain: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(plain, salt, 64, { N: n, r: 8, p: 1, maxmem: 256 * n * 8 + 2 ** 20 });
  return ['scrypt', n, 8, 1, salt.toString('base64'), hash.toString('base64')].join('$');
}
const costOf = (stored: string) => Number(stored.split('$')[1]);

describe('AccountService', () => {
  let dir: string;
  let storage: Storage;
  let accounts: AccountService;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mic-acc-'));
    storage = await createEmbeddedStorage({ dataDir: dir, key: Buffer.alloc(32, 4) });
    accounts = new AccountService(storage.users);
  });
  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('normalises emails and rejects non-emails', () => {
    expect(normaliseEmail('  Ann@Example.COM ')).toBe('ann@example.com');
    expect(normaliseEmail('admin@localhost')).toBe('admin@localhost');
    expect(normaliseEmail('not an email')).toBeUndefined();
    expect(normaliseEmail('a@b..c')).toBeUndefined();
    expect(normaliseEmail(`${'a'.repeat(250)}@b.co`)).toBeUndefined();
  });

  it('creates a user with a lower-case email and a scrypt hash', async () => {
    const user = await accounts.createUser('Ann@Example.com', PASSWORD);
    expect(user).toMatchObject({ email: 'ann@example.com' });
    expect(user.passwordHash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await storage.users.getById(user.id)).toEqual(user);
  });

  it('refuses a bad email, a weak password, and a taken email with clear messages', async () => {
    await expect(accounts.createUser('nope', PASSWORD)).rejects.toMatchObject({
      code: 'invalid_email',
      message: 'Enter a valid email address.',
    });
    await expect(accounts.createUser('a@b.co', 'short')).rejects.toMatchObject({
      code: 'weak_password',
      message: 'Password must be at least 10 characters long.',
    });
    await accounts.createUser('a@b.co', PASSWORD);
    const duplicate = accounts.createUser('A@B.CO', PASSWORD);
    await expect(duplicate).rejects.toBeInstanceOf(AccountError);
    await expect(duplicate).rejects.toThrow('A user with this email already exists.');
    expect(await storage.users.list()).toHaveLength(1);
  });

  it('authenticates the right password only, for any case of the email', async () => {
    const user = await accounts.createUser('ann@example.com', PASSWORD);
    expect(await accounts.authenticate('ANN@example.com', PASSWORD)).toMatchObject({
      id: user.id,
      email: user.email,
    });
    expect(await accounts.authenticate('ann@example.com', 'wrong password')).toBeNull();
    expect(await accounts.authenticate('bob@example.com', PASSWORD)).toBeNull();
    expect(await accounts.authenticate('not an email', PASSWORD)).toBeNull();
  });

  it('ensureDemoUser creates once and never changes an existing password', async () => {
    expect(await accounts.ensureDemoUser('demo@example.com', PASSWORD)).toBe('created');
    expect(await accounts.ensureDemoUser('Demo@example.com', 'another password')).toBe('exists');
    expect(await accounts.authenticate('demo@example.com', PASSWORD)).not.toBeNull();
    expect(await accounts.authenticate('demo@example.com', 'another password')).toBeNull();
    expect(await storage.users.list()).toHaveLength(1);
  });

  it('ensureDemoUser is safe when two starts race', async () => {
    const results = await Promise.all([
      accounts.ensureDemoUser('demo@example.com', PASSWORD),
      accounts.ensureDemoUser('demo@example.com', PASSWORD),
    ]);
    expect(results.sort()).toEqual(['created', 'exists']);
    expect(await storage.users.list()).toHaveLength(1);
  });

  it('login moves a hash made at N=2^14 to the current cost and records the last login', async () => {
    const old = hashAt(2 ** 14, PASSWORD);
    expect(needsRehash(old)).toBe(true);
    await storage.users.create({ id: 'u-old', email: 'old@example.com', passwordHash: old, createdAt: 'x' });
    const before = Date.now();
    expect(await accounts.authenticate('old@example.com', 'wrong password')).toBeNull();
    expect((await storage.users.getById('u-old'))?.passwordHash).toBe(old);

    const user = await accounts.authenticate('old@example.com', PASSWORD);
    const stored = await storage.users.getById('u-old');
    expect(user).toEqual(stored);
    expect(stored?.passwordHash).not.toBe(old);
    expect(costOf(stored!.passwordHash)).toBe(costOf(await hashPassword('any password at all')));
    expect(await verifyPassword(PASSWORD, stored!.passwordHash)).toBe(true);
    expect(Date.parse(stored!.lastLoginAt!)).toBeGreaterThanOrEqual(before);
  });

  it('login leaves a hash at the current cost as it is', async () => {
    const current = hashAt(2 ** 17, PASSWORD);
    expect(needsRehash(current)).toBe(false);
    await storage.users.create({
      id: 'u-new',
      email: 'new@example.com',
      passwordHash: current,
      createdAt: 'x',
    });
    expect(await accounts.authenticate('new@example.com', PASSWORD)).not.toBeNull();
    expect((await storage.users.getById('u-new'))?.passwordHash).toBe(current);
  });

  it('gives roles: user by default, admin when asked, and the demo user is an admin', async () => {
    expect((await accounts.createUser('u@example.com', PASSWORD)).role).toBe('user');
    expect((await accounts.createUser('a@example.com', PASSWORD, 'admin')).role).toBe('admin');
    await accounts.ensureDemoUser('demo@example.com', PASSWORD);
    expect((await storage.users.getByEmail('demo@example.com'))?.role).toBe('admin');
    await accounts.ensureDemoUser('plain@example.com', PASSWORD, 'user');
    expect((await storage.users.getByEmail('plain@example.com'))?.role).toBe('user');
    // A set role stays; a demo user from before roles becomes admin.
    expect(await accounts.ensureDemoUser('plain@example.com', PASSWORD)).toBe('exists');
    expect((await storage.users.getByEmail('plain@example.com'))?.role).toBe('user');
    await storage.users.create({
      id: 'legacy',
      email: 'old-demo@example.com',
      passwordHash: 'x',
      createdAt: 'x',
    });
    expect(await accounts.ensureDemoUser('old-demo@example.com', PASSWORD)).toBe('exists');
    expect((await storage.users.getById('legacy'))?.role).toBe('admin');
  });

  it('changes a password and removes a user, refusing an unknown email', async () => {
    await accounts.createUser('ann@example.com', PASSWORD);
    await accounts.setPassword('ANN@example.com', 'a brand new password');
    expect(await accounts.authenticate('ann@example.com', PASSWORD)).toBeNull();
    expect(await accounts.authenticate('ann@example.com', 'a brand new password')).not.toBeNull();
    await expect(accounts.setPassword('ann@example.com', 'short')).rejects.toMatchObject({
      code: 'weak_password',
    });
    await expect(accounts.setPassword('bob@example.com', PASSWORD)).rejects.toMatchObject({
      code: 'unknown_user',
      message: 'There is no user bob@example.com.',
    });
    await accounts.removeUser('ann@example.com');
    expect(await storage.users.list()).toEqual([]);
    await expect(accounts.removeUser('ann@example.com')).rejects.toMatchObject({ code: 'unknown_user' });
  });
});
