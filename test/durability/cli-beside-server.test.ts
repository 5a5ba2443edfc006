import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BrowserSession } from '../../src/bench/browser-session.js';
import { newEncryptionKey } from '../../src/bench/common.js';
import {
  BENCH_DEMO_EMAIL,
  BENCH_DEMO_PASSWORD,
  spawnConnector,
  type ConnectorProcess,
} from '../../src/bench/connector-process.js';
import { runCli } from '../helpers/cli.js';

/**
 * The embedded storage shared by the server and a CLI (both its own process): users added by
 * `npm run user -- add` while the server keeps writing sessions are all kept, and the server lets
 * them log in without a restart.
 */
let dataDir: string;
let server: ConnectorProcess;
const encryptionKey = newEncryptionKey();

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'cli-beside-server-'));
  server = await spawnConnector({ dataDir, encryptionKey, env: { LOGIN_RATE_LIMIT: '10000' } });
}, 60_000);
afterAll(async () => {
  await server?.stop(10_000);
  await rm(dataDir, { recursive: true, force: true });
});

describe('a CLI writing beside the running server', () => {
  it('adds users the server sees at once, while the server writes too; none is lost', async () => {
    const env = { DATA_DIR: dataDir, TOKEN_ENCRYPTION_KEY: encryptionKey, NODE_ENV: 'test' };
    const emails = Array.from({ length: 6 }, (_, i) => `cli-user-${i}@example.com`);
    // The server writes sessions the whole time: logins of its demo user.
    let writing = true;
    const serverWrites = (async () => {
      let logins = 0;
      while (writing) {
        await new BrowserSession(server.url, BENCH_DEMO_EMAIL, BENCH_DEMO_PASSWORD).logIn();
        logins++;
      }
      return logins;
    })();
    const added = [];
    for (const email of emails) {
      added.push(await runCli('user', ['add', email], env, 'correct horse battery staple\n'));
    }
    writing = false;
    expect(await serverWrites).toBeGreaterThan(0);
    expect(added.map((r) => [r.code, r.stderr.trim()])).toEqual(emails.map(() => [0, '']));
    // Logged in on the running server, which was never restarted.
    for (const email of emails) {
      await expect(
        new BrowserSession(server.url, email, 'correct horse battery staple').logIn(),
      ).resolves.toBeUndefined();
    }
    const listed = await runCli('user', ['list'], env);
    for (const email of [...emails, BENCH_DEMO_EMAIL]) expect(listed.stdout).toContain(email);
  }, 120_000);
});
