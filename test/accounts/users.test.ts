import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { AccountError, AccountService, normaliseEmail } from '../../src/accounts/users.js';
import { createLowdbStorage } from '../../src/storage/lowdb-storage.js';
import type { Storage } from '../../src/storage/types.js';

const PASSWORD = 'correct horse battery';

describe('AccountService', () => {
  let dir: string;
  let storage: Storage;
  let accounts: AccountService;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mic-acc-'));
    storage = await createLowdbStorage({ dataDir: dir, key: Buffer.alloc(32, 4) });
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
    expect(await accounts.authenticate('ANN@example.com', PASSWORD)).toEqual(user);
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
});
