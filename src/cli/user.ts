import { Command } from 'commander';
import { AccountError, AccountService, normaliseEmail } from '../accounts/users.js';
import { validatePassword } from '../accounts/password.js';
import { configOrExit } from './lifecycle.js';
import { openCliStorage } from './open-storage.js';
import { confirm, promptHidden, readStdinLines } from './prompt.js';
import { painter } from './style.js';
import { UsageError, usageErrorsExit2 } from './usage.js';
import type { Storage } from '../storage/types.js';

/** A one-line refusal: printed without a stack trace, exit code 1. */
class CliError extends Error {}

async function withStorage<T>(work: (storage: Storage) => Promise<T>): Promise<T> {
  const config = configOrExit();
  const storage = await openCliStorage(config);
  try {
    return await work(storage);
  } finally {
    await storage.close();
  }
}

/** First line of piped stdin (without its line ending). */
async function readStdinLine(): Promise<string> {
  const [line] = await readStdinLines(1);
  if (line !== undefined) return line;
  throw new CliError('No password on stdin: pipe one line, or run in a terminal to be asked.');
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readStdinLine();
  const [first = '', second = ''] = await promptHidden(['Password: ', 'Repeat password: ']);
  if (first !== second) throw new CliError('The passwords do not match.');
  return first;
}

/** Reads and checks a new password before the data directory is opened, so a refusal leaves nothing behind. */
async function readNewPassword(email: string): Promise<string> {
  if (!normaliseEmail(email)) throw new UsageError('Enter a valid email address.');
  const password = await readPassword();
  const problem = validatePassword(password);
  if (problem) throw new UsageError(problem);
  return password;
}

async function addUser(email: string, options: { admin?: boolean }): Promise<void> {
  const password = await readNewPassword(email);
  const role = options.admin ? 'admin' : 'user';
  const user = await withStorage((storage) =>
    new AccountService(storage.users).createUser(email, password, role),
  );
  console.log(`Created ${role === 'admin' ? 'admin' : 'user'} ${user.email} (id ${user.id}).`);
}

async function changePassword(email: string): Promise<void> {
  const password = await readNewPassword(email);
  const user = await withStorage((storage) => new AccountService(storage.users).setPassword(email, password));
  console.log(`Changed the password of ${user.email}.`);
}

async function removeUser(email: string, options: { yes?: boolean }): Promise<void> {
  const normalised = normaliseEmail(email);
  if (!normalised) throw new UsageError('Enter a valid email address.');
  if (!options.yes) {
    if (!process.stdin.isTTY)
      throw new UsageError(
        `Removing ${normalised} cannot be undone: confirm with --yes (no terminal to ask on).`,
      );
    if (!(await confirm(`Remove ${normalised}? They can no longer log in.`))) {
      console.error('Nothing was removed.');
      return;
    }
  }
  const user = await withStorage((storage) => new AccountService(storage.users).removeUser(email));
  // Their sessions end at the next request: the web layer only trusts a session whose user exists.
  console.log(`Removed user ${user.email}; the stores they linked stay, visible to admins.`);
}

async function listUsers(): Promise<void> {
  const users = await withStorage((storage) => storage.users.list());
  if (users.length === 0) {
    console.log('No users yet. Add one with: npm run user -- add <email>');
    return;
  }
  const paint = painter(process.stdout);
  for (const user of users) {
    const role = user.role ?? 'user';
    const lastLogin = user.lastLoginAt ? `last login ${user.lastLoginAt}` : paint('dim', 'never logged in');
    console.log(
      `${user.email}\t${role === 'admin' ? paint('bold', role) : role}\tcreated ${user.createdAt}\t${lastLogin}\tid ${user.id}`,
    );
  }
}

const program = new Command()
  .name('npm run user --')
  .description('Manage the people who can log in to the connector (identity-link login, dashboard).');

program
  .command('add')
  .description('create a user; asks for the password, or reads one line from stdin when piped')
  .argument('<email>', 'login email (stored lower-case)')
  .option('--admin', 'an admin sees and operates every store, not only the ones they linked')
  .action(addUser);

program.command('list').description('list users with their role and last login').action(listUsers);

program
  .command('passwd')
  .description('set a new password; asks for it, or reads one line from stdin when piped')
  .argument('<email>', 'login email')
  .action(changePassword);

program
  .command('remove')
  .description('delete a user (the stores they linked are kept); asks first')
  .argument('<email>', 'login email')
  .option('--yes', 'do not ask (scripts; needed when stdin is not a terminal)')
  .action(removeUser);

try {
  await usageErrorsExit2(program).parseAsync();
} catch (error) {
  const known = error instanceof CliError || error instanceof AccountError || error instanceof UsageError;
  console.error(known ? error.message : `Error: ${(error as Error).message}`);
  process.exitCode =
    error instanceof UsageError ||
    (error instanceof AccountError && (error.code === 'invalid_email' || error.code === 'weak_password'))
      ? 2
      : 1;
}
