import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { runCli } from '../helpers/cli.js';

/** Every command tells a usage error (exit 2, the parser's message) from a failure (exit 1). */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'usage-exit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const COMMANDS = [
  'call',
  'contract',
  'demo',
  'export',
  'import',
  'module',
  'simulator',
  'key',
  'store',
  'user',
  'sync',
];

it.each(COMMANDS)(
  '%s: an unknown option (or a missing required one) exits 2 and says so; --help exits 0',
  async (command) => {
    const env = { NODE_ENV: 'test', DATA_DIR: dir };
    const wrong = await runCli(command, ['--no-such-option'], env);
    expect({
      code: wrong.code,
      said: /error: (unknown option '--no-such-option'|required option '--[a-z-]+ .*' not specified)/.test(
        wrong.stderr,
      ),
    }).toEqual({
      code: 2,
      said: true,
    });
    const help = await runCli(command, ['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: /m);
  },
);

it('a bad option value is a usage error too', async () => {
  const env = { NODE_ENV: 'test', DATA_DIR: dir };
  const res = await runCli('export', ['--entity', 'nonsense'], env);
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(/--entity.*must be one of/);
});
