import readline from 'node:readline';
import { Writable } from 'node:stream';

/** Asks on the terminal without echoing what is typed. */
export async function promptHidden(questions: string[]): Promise<string[]> {
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

/** The first `count` lines of piped stdin (without line endings); fewer when stdin ends first. */
export async function readStdinLines(count: number): Promise<string[]> {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  const lines: string[] = [];
  for await (const line of rl) {
    lines.push(line);
    if (lines.length >= count) break;
  }
  rl.close();
  return lines;
}

/**
 * Asks a yes/no question on the terminal (default no). Off a terminal there is no one to ask: the
 * caller says which flag (`--yes`) confirms instead.
 */
export async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
