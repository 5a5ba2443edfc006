import type { Command } from 'commander';

/**
 * Usage errors (an unknown command or option, a missing or bad argument) exit with code 2 and the
 * parser's message; help exits 0. Applied to every subcommand, including those added later with
 * addCommand, so call it once the program is complete.
 */
export function usageErrorsExit2(command: Command): Command {
  command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
  for (const sub of command.commands) usageErrorsExit2(sub);
  return command;
}

/** A refusal of the input: the message (what, why, which flag fixes it), exit code 2. */
export class UsageError extends Error {}
