import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DEMO_EMAIL, DEMO_PASSWORD, startTestConnector } from '../helpers/connector.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PASSWORD = 'correct horse battery staple';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], input: string, env: Record<string, string>): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', ...env };
  delete childEnv.NODE_OPTIONS;
  if (!('TOKEN_ENCRYPTION_KEY' in env)) delete childEnv.TOKEN_ENCRYPTION_KEY;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/user.ts', ...args], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('npm run user', () => {
  let dir: string;
  let dataDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mic-cli-'));
    dataDir = path.join(dir, 'data');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('add reads a piped password, then list shows the user, and a second add fails', async () => {
    const added = await runCli(['add', 'X@y.z'], `${PASSWORD}\n`, { DATA_DIR: dataDir });
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toMatch(/^Created user x@y\.z \(id [0-9a-f-]{36}\)\.\n$/);

    const db = await readFile(path.join(dataDir, 'db.json'), 'utf8');
    expect(db).toContain('"email": "x@y.z"');
    expect(db).not.toContain(PASSWORD);
    expect((await stat(path.join(dataDir, 'encryption.key'))).isFile()).toBe(true);

    const listed = await runCli(['list'], '', { DATA_DIR: dataDir });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^x@y\.z\tuser\tcreated \S+\tnever logged in\tid /);

    const again = await runCli(['add', 'x@Y.Z'], `${PASSWORD}\n`, { DATA_DIR: dataDir });
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('A user with this email already exists.');
  }, 30_000);

  it('refuses a weak password, a bad email and an empty stdin, touching nothing', async () => {
    const fresh = path.join(dir, 'untouched');
    const weak = await runCli(['add', 'a@b.co'], 'short\n', { DATA_DIR: fresh });
    expect(weak.code).toBe(2);
    expect(weak.stderr.trim()).toBe('Password must be at least 10 characters long.');

    const badEmail = await runCli(['add', 'not-an-email'], `${PASSWORD}\n`, { DATA_DIR: fresh });
    expect(badEmail.code).toBe(2);
    expect(badEmail.stderr.trim()).toBe('Enter a valid email address.');

    const empty = await runCli(['add', 'a@b.co'], '', { DATA_DIR: fresh });
    expect(empty.code).toBe(1);
    expect(empty.stderr.trim()).toMatch(/^No password on stdin/);

    await expect(stat(fresh)).rejects.toThrow(/ENOENT/);
  }, 30_000);

  it('needs TOKEN_ENCRYPTION_KEY in production', async () => {
    const run = await runCli(['list'], '', { DATA_DIR: path.join(dir, 'prod'), NODE_ENV: 'production' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('Error: TOKEN_ENCRYPTION_KEY is required in production');
  }, 30_000);

  it('add --admin, passwd and remove; list shows the role', async () => {
    const env = { DATA_DIR: path.join(dir, 'roles') };
    const admin = await runCli(['add', 'boss@y.z', '--admin'], `${PASSWORD}\n`, env);
    expect(admin).toMatchObject({ code: 0 });
    expect(admin.stdout).toMatch(/^Created admin boss@y\.z \(id /);
    expect((await runCli(['add', 'ann@y.z'], `${PASSWORD}\n`, env)).code).toBe(0);
    const listed = await runCli(['list'], '', env);
    expect(listed.stdout).toMatch(/^boss@y\.z\tadmin\t/m);
    expect(listed.stdout).toMatch(/^ann@y\.z\tuser\t/m);

    const passwd = await runCli(['passwd', 'ANN@y.z'], 'another long password\n', env);
    expect(passwd).toMatchObject({ code: 0, stdout: 'Changed the password of ann@y.z.\n' });
    const weak = await runCli(['passwd', 'ann@y.z'], 'short\n', env);
    expect(weak.code).toBe(2);
    expect(weak.stderr.trim()).toBe('Password must be at least 10 characters long.');

    // Piped stdin: no one to ask, so --yes is required and nothing is removed without it.
    const unconfirmed = await runCli(['remove', 'ann@y.z'], '', env);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr.trim()).toBe(
      'Removing ann@y.z cannot be undone: confirm with --yes (no terminal to ask on).',
    );
    expect((await runCli(['list'], '', env)).stdout).toContain('ann@y.z');
    const removed = await runCli(['remove', 'ann@y.z', '--yes'], '', env);
    expect(removed.code).toBe(0);
    const gone = await runCli(['remove', 'ann@y.z', '--yes'], '', env);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim()).toBe('There is no user ann@y.z.');
    expect((await runCli(['list'], '', env)).stdout).not.toContain('ann@y.z');
    // The only admin stays until there is another.
    const last = await runCli(['remove', 'boss@y.z', '--yes'], '', env);
    expect(last.code).toBe(1);
    expect(last.stderr.trim()).toBe(
      'boss@y.z is the only admin: add another first (npm run user -- add EMAIL --admin), then remove this one.',
    );
    expect((await runCli(['add', 'second@y.z', '--admin'], `${PASSWORD}\n`, env)).code).toBe(0);
    expect((await runCli(['remove', 'boss@y.z', '--yes'], '', env)).code).toBe(0);
    // Piped: no colour codes in the table.
    expect((await runCli(['list'], '', env)).stdout).not.toContain('\u001b[');
  }, 60_000);

  it('refuses an unknown command or option with exit code 2', async () => {
    const env = { DATA_DIR: path.join(dir, 'usage') };
    const [command, option] = await Promise.all([
      runCli(['delete', 'a@b.co'], '', env),
      runCli(['remove', 'a@b.co', '--force'], '', env),
    ]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'delete'");
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--force'");
  }, 30_000);

  it('list shows the last dashboard login', async () => {
    const t = await startTestConnector();
    try {
      const agent = request.agent(t.connector.url);
      const login = await agent.get('/login');
      await agent
        .post('/login')
        .type('form')
        .send({
          _csrf: /name="_csrf" value="([^"]+)"/.exec(login.text)?.[1] ?? '',
          email: DEMO_EMAIL,
          password: DEMO_PASSWORD,
        })
        .expect(303);
      const listed = await runCli(['list'], '', { DATA_DIR: t.dataDir });
      expect(listed.code).toBe(0);
      const at = (await t.connector.storage.users.getByEmail(DEMO_EMAIL))?.lastLoginAt;
      expect(at).toBeDefined();
      expect(listed.stdout).toContain(`${DEMO_EMAIL}\tadmin\tcreated `);
      expect(listed.stdout).toContain(`\tlast login ${at}\t`);
    } finally {
      await t.close();
    }
  }, 60_000);
});
