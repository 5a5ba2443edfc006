import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { FileLock } from '../../src/storage/embedded/lock.js';

/**
 * A process taking the embedded storage's lock over and over (a busy server) lets another process
 * (a CLI) in: counted in the busy process's turns, not in time.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lock-fairness-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('a waiting process gets the lock within 50 turns of a process that takes it back to back', async () => {
  const target = path.join(dir, 'db');
  const marker = path.join(dir, 'other-got-it');
  const busy = new FileLock(target);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/storage/fixtures/lock-once.ts', target, marker],
    { env: { ...process.env, NODE_OPTIONS: '' } },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  // Held from before the other process asks, so it has to wait.
  await busy.run(
    () =>
      new Promise<void>((resolve) =>
        child.stdout.on('data', (c: Buffer) => {
          if (c.toString().includes('trying')) setTimeout(resolve, 50);
        }),
      ),
  );

  // Each turn holds the lock as a journal write does (a few ms of I/O), then takes it again at once.
  let turns = 0;
  while (!existsSync(marker) && turns < 50) {
    await busy.run(() => new Promise<void>((resolve) => setTimeout(resolve, 2)));
    turns++;
  }
  expect({ otherGotIt: existsSync(marker), withinTurns: turns < 50 }).toEqual({
    otherGotIt: true,
    withinTurns: true,
  });
  expect(await exited).toBe(0);
  expect(stderr).toBe('');
}, 60_000);
