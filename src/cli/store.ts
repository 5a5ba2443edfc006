import { Command } from 'commander';
import { webhookKeyCommand } from './store-webhook-key.js';

/** `npm run store -- <command>`: per-store settings; each subcommand lives in its own file. */
const program = new Command().name('npm run store --').description('Settings of the linked stores.');
program.addCommand(webhookKeyCommand());

try {
  await program.parseAsync();
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
