import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

/** Runs a command; resolves with its exit code and output whatever the code. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { env }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run test:e2e without Chromium', () => {
  let empty: string;
  beforeAll(async () => {
    empty = await mkdtemp(path.join(os.tmpdir(), 'mic-nochromium-'));
  });
  afterAll(() => rm(empty, { recursive: true, force: true }));

  it('says what to install, not a stack trace, when no Chromium is anywhere', async () => {
    const missing = path.join(empty, 'chromium');
    const { code, stderr } = await run(process.execPath, ['scripts/check-chromium.mjs'], {
      ...process.env,
      CHROMIUM_PATH: missing,
      PATH: empty,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`there is none at ${missing} (CHROMIUM_PATH)`);
    expect(stderr).toContain('sudo apt-get install chromium');
    expect(stderr).toContain('CHROMIUM_PATH=/path/to/chrome npm run test:e2e');
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('points at a Chromium installed under another name', async () => {
    const bin = path.join(empty, 'bin');
    await mkdir(bin);
    const other = path.join(bin, 'chromium-browser');
    await writeFile(other, '#!/bin/sh\n', { mode: 0o755 });
    const { code, stderr } = await run(process.execPath, ['scripts/check-chromium.mjs'], {
      ...process.env,
      CHROMIUM_PATH: path.join(empty, 'nothing-here'),
      PATH: bin,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`One is installed at ${other}: CHROMIUM_PATH=${other} npm run test:e2e`);
  });

  it('stops npm run test:e2e before jest starts, and passes when the browser is there', async () => {
    const env = { ...process.env, NODE_OPTIONS: '', CHROMIUM_PATH: path.join(empty, 'nothing-here') };
    const stopped = await run('npm', ['run', 'test:e2e'], env);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('npm run test:e2e drives Chromium');
    expect(stopped.stdout + stopped.stderr).not.toContain('Test Suites:');
    const found = await run(process.execPath, ['scripts/check-chromium.mjs'], {
      ...process.env,
      CHROMIUM_PATH: process.execPath,
    });
    expect(found).toMatchObject({ code: 0, stderr: '' });
  });
});
