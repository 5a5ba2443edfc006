import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DuplicateError, type UserRecord, type UserStore } from '../storage/types.js';
import { hashPassword, validatePassword, verifyPassword } from './password.js';

export type AccountErrorCode = 'invalid_email' | 'weak_password' | 'duplicate';

/** A refusal the user can act on; `message` is one sentence fit to show them. */
export class AccountError extends Error {
  override name = 'AccountError';
  constructor(
    readonly code: AccountErrorCode,
    message: string,
  ) {
    super(message);
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

  async createUser(email: string, password: string): Promise<UserRecord> {
    const normalised = normaliseEmail(email);
    if (!normalised) throw new AccountError('invalid_email', 'Enter a valid email address.');
    const problem = validatePassword(password);
    if (problem) throw new AccountError('weak_password', problem);
    const user: UserRecord = {
      id: randomUUID(),
      email: normalised,
      passwordHash: await hashPassword(password),
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
    return user && ok ? user : null;
  }

  /** Creates the user unless one with this email exists; never changes an existing password. */
  async ensureDemoUser(email: string, password: string): Promise<'created' | 'exists'> {
    const normalised = normaliseEmail(email);
    if (normalised && (await this.users.getByEmail(normalised))) return 'exists';
    try {
      await this.createUser(email, password);
      return 'created';
    } catch (error) {
      // Another start created it between the lookup and the insert.
      if (error instanceof AccountError && error.code === 'duplicate') return 'exists';
      throw error;
    }
  }
}
