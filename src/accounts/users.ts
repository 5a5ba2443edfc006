import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { DuplicateError, type UserRecord, type UserRole, type UserStore } from '../storage/types.js';
import { hashPassword, needsRehash, validatePassword, verifyPassword } from './password.js';

export type AccountErrorCode =
  'invalid_email' | 'weak_password' | 'duplicate' | 'unknown_user' | 'last_admin';

/** A refusal the user can act on; `message` is one sentence fit to show them. */
export class AccountError extends AppError {
  override name = 'AccountError';
  declare readonly code: AccountErrorCode;
  constructor(code: AccountErrorCode, message: string) {
    super(code, message);
  }
}

// The browser's own <input type=email> rule: accepts local names like admin@localhost and a@b.c.
const emailSchema = z.email({ pattern: z.regexes.html5Email }).max(254);

/** Lower-cased and trimmed, or undefined when it is not an email address. */
export function normaliseEmail(email: string): string | undefined {
  const result = emailSchema.safeParse(email.trim().toLowerCase());
  return result.success ? result.data : undefined;
}

// A well-formed hash of no known password: verifying against it costs what a real check costs.
const DUMMY_HASH =
  'scrypt$131072$8$1$Ztm+ljU1z6IVQesOOHZrfw==$e2fKdSzKjsArNqHbXxqva2YcnEOOf4vo8xlNpUyPB7LG3EKF19g39pXs0EFJ35ALj4K1yn9iY8QOx04DrgqZvg==';

export class AccountService {
  constructor(private readonly users: UserStore) {}

  async createUser(email: string, password: string, role: UserRole = 'user'): Promise<UserRecord> {
    const normalised = normaliseEmail(email);
    if (!normalised) throw new AccountError('invalid_email', 'Enter a valid email address.');
    const problem = validatePassword(password);
    if (problem) throw new AccountError('weak_password', problem);
    const user: UserRecord = {
      id: randomUUID(),
      email: normalised,
      passwordHash: await hashPassword(password),
      role,
      createdAt: new Date().toISOString(),
    };
    try {
      await this.users.create(user);
    } catch (error) {
      if (error instanceof DuplicateError) {
        throw new AccountError('duplicate', 'A user with this email already exists.');
      }
      throw error;
    }
    return user;
  }

  /** The user when email and password match, else null; takes as long for an unknown email. */
  async authenticate(email: string, password: string): Promise<UserRecord | null> {
    const normalised = normaliseEmail(email);
    const user = normalised === undefined ? undefined : await this.users.getByEmail(normalised);
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) return null;
    // The password is in hand only now: the moment to move an old hash to today's cost.
    const passwordHash = needsRehash(user.passwordHash) ? await hashPassword(password) : undefined;
    const lastLoginAt = new Date().toISOString();
    return this.users.update(user.id, (current) => ({
      ...current,
      lastLoginAt,
      // Only over the hash that was checked: a password changed meanwhile wins.
      ...(passwordHash && current.passwordHash === user.passwordHash ? { passwordHash } : {}),
    }));
  }

  /** Sets a new password (the CLI's passwd); the caller has checked who asks. */
  async setPassword(email: string, password: string): Promise<UserRecord> {
    const user = await this.requireUser(email);
    const problem = validatePassword(password);
    if (problem) throw new AccountError('weak_password', problem);
    const passwordHash = await hashPassword(password);
    return this.users.update(user.id, (current) => ({ ...current, passwordHash }));
  }

  /** Removes the user; the stores they linked stay, shown to admins as linked by a deleted user. */
  async removeUser(email: string): Promise<UserRecord> {
    const user = await this.requireUser(email);
    // Without an admin nobody could see the stores of users removed later, or add another admin.
    if (user.role === 'admin') {
      const admins = (await this.users.list()).filter((u) => u.role === 'admin');
      if (admins.length <= 1)
        throw new AccountError(
          'last_admin',
          `${user.email} is the only admin: add another first (npm run user -- add EMAIL --admin), then remove this one.`,
        );
    }
    await this.users.delete(user.id);
    return user;
  }

  private async requireUser(email: string): Promise<UserRecord> {
    const normalised = normaliseEmail(email);
    if (!normalised) throw new AccountError('invalid_email', 'Enter a valid email address.');
    const user = await this.users.getByEmail(normalised);
    if (!user) throw new AccountError('unknown_user', `There is no user ${normalised}.`);
    return user;
  }

  /**
   * Creates the user unless one with this email exists; never changes an existing password or a role
   * once set. An admin by default: the demo user is the one who sees every store. A demo user stored
   * before roles existed (no role) is given this one, so it keeps seeing the stores it saw.
   */
  async ensureDemoUser(
    email: string,
    password: string,
    role: UserRole = 'admin',
  ): Promise<'created' | 'exists'> {
    const normalised = normaliseEmail(email);
    const existing = normalised ? await this.users.getByEmail(normalised) : undefined;
    if (existing) {
      if (existing.role === undefined)
        await this.users.update(existing.id, (current) => ({ ...current, role: current.role ?? role }));
      return 'exists';
    }
    try {
      await this.createUser(email, password, role);
      return 'created';
    } catch (error) {
      // Another start created it between the lookup and the insert.
      if (error instanceof AccountError && error.code === 'duplicate') return 'exists';
      throw error;
    }
  }
}
