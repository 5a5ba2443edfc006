import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');

/**
 * The built package as it is deployed: dist/ from `npm run build`, with package.json, views/ and
 * node_modules beside it and no src/ and no tsx. Runs what `npm run start:prod` runs, with plain node.
 */
describe('the build output (npm run build, npm run start:prod)', () => {
  let root: string;
  let server: ChildProcess | undefined;
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', ...extra };
    for (const name of ['DATABASE_URL', 'TOKEN_ENCRYPTION_KEY', 'PUBLIC_URL', 'PORT', 'HOST', 'NODE_ENV']) {
      if (!(name in extra)) delete e[name];
    }
    return e;
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mic-build-'));
    await copyFile(path.join(REPO, 'package.json'), path.join(root, 'package.json'));
    await symlink(path.join(REPO, 'views'), path.join(root, 'views'));
    await symlink(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
    await run(
      process.execPath,
      [path.join(REPO, 'scripts/build.mjs'), '--out-dir', path.join(root, 'dist')],
      {
        cwd: REPO,
        env: env(),
      },
    );
  }, 120_000);
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      process.kill(-server.pid!, 'SIGTERM');
      await exited;
    }
    // npm exits on the signal before its node child has finished writing data/: retry the removal.
    await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('the built module CLI writes a module whose XML it checked against the XSDs', async () => {
    const out = path.join(root, 'modules');
    const { stdout } = await run(
      process.execPath,
      ['dist/cli/module.js', '--vendor', 'Acme', '--module', 'Connector', '--out', out, '--allow-http'],
      { cwd: root, env: env({ DATA_DIR: path.join(root, 'data') }) },
    );
    expect(stdout).toContain('XML checked against the Magento_Integration schema rules.');
    expect(await readFile(path.join(out, 'Acme/Connector/etc/integration.xml'), 'utf8')).toContain(
      '<integration name="Acme Connector">',
    );
  });

  it('npm run start:prod serves /healthz and the login page from the built output', async () => {
    server = spawn('npm', ['run', 'start:prod'], {
      cwd: root,
      detached: true,
      env: env({
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: path.join(root, 'data'),
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        LOG_LEVEL: 'warn',
      }),
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const seen = (chunk: Buffer) => {
        output += chunk.toString();
        const found = /Dashboard:\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
        if (found) resolve(found[1]!);
      };
      server!.stdout!.on('data', seen);
      server!.stderr!.on('data', seen);
      server!.once('exit', (code) => reject(new Error(`start:prod exited with ${code}:\n${output}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', storage: 'embedded' });
    const login = await fetch(`${url}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toMatch(/<form[^>]*method="post"/i);
  }, 60_000);
});
