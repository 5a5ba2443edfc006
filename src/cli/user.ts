import readline from 'node:readline';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { AccountError, AccountService, normaliseEmail } from '../accounts/users.js';
import { validatePassword } from '../accounts/password.js';
import { configOrExit } from './lifecycle.js';
import { openStorage } from '../storage/open.js';
import type { Storage } from '../storage/types.js';

/** A one-line refusal: printed without a stack trace, exit code 1. */
class CliError extends Error {}

async function withStorage<T>(work: (storage: Storage) => Promise<T>): Promise<T> {
  const config = configOrExit();
  const { storage } = await openStorage({
    dataDir: config.DATA_DIR,
    envKey: config.TOKEN_ENCRYPTION_KEY,
    production: config.NODE_ENV === 'production',
    // stderr, so stdout stays the command's own output.
    logger: { warn: (details, message) => console.error(`${message} ${JSON.stringify(details)}`) },
  });
  try {
    return await work(storage);
  } finally {
    await storage.close();
  }
}

/** Asks on the terminal without echoing what is typed. */
async function promptHidden(questions: string[]): Promise<string[]> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = readline.createInterface({ input: process.stdin, output, terminal: true });
  rl.on('SIGINT', () => {
    rl.close();
    process.stderr.write('\n');
    process.exit(130);
  });
  const answers: string[] = [];
  try {
    for (const question of questions) {
      muted = false;
      const answer = new Promise<string>((resolve) => rl.question(question, resolve));
      muted = true;
      answers.push(await answer);
      process.stderr.write('\n');
    }
  } finally {
    rl.close();
  }
  return answers;
}

/** First line of piped stdin (without its line ending). */
async function readStdinLine(): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new CliError('No password on stdin: pipe one line, or run in a terminal to be asked.');
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readStdinLine();
  const [first = '', second = ''] = await promptHidden(['Password: ', 'Repeat password: ']);
  if (first !== second) throw new CliError('The passwords do not match.');
  return first;
}

async function addUser(email: string): Promise<void> {
  if (!normaliseEmail(email)) throw new CliError('Enter a valid email address.');
  const password = await readPassword();
  // Checked before opening the data directory, so a refused password leaves nothing behind.
  const problem = validatePassword(password);
  if (problem) throw new CliError(problem);
  const user = await withStorage((storage) => new AccountService(storage.users).createUser(email, password));
  console.log(`Created user ${user.email} (id ${user.id}).`);
}

async function listUsers(): Promise<void> {
  const users = await withStorage((storage) => storage.users.list());
  if (users.length === 0) {
    console.log('No users yet. Add one with: npm run user -- add <email>');
    return;
  }
  for (const user of users) console.log(`${user.email}\tcreated ${user.createdAt}\tid ${user.id}`);
}

const program = new Command()
  .name('npm run user --')
  .description('Manage the people who can log in to the connector (identity-link login, dashboard).');

program
  .command('add')
  .description('create a user; asks for the password, or reads one line from stdin when piped')
  .argument('<email>', 'login email (stored lower-case)')
  .action(addUser);

program.command('list').description('list users').action(listUsers);

try {
  await program.parseAsync();
} catch (error) {
  const known = error instanceof CliError || error instanceof AccountError;
  console.error(known ? error.message : `Error: ${(error as Error).message}`);
  process.exitCode = 1;
}
