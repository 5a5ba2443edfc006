import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { parseConfig } from '../../src/config/config.js';
import { REDACT_PATHS } from '../../src/config/logger.js';
import { startConnector, type RunningConnector } from '../../src/app/main.js';

export const DEMO_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'correct horse battery';

/** A connector on a free port with its own temp DATA_DIR; `logs` holds every line it wrote. */
export async function startTestConnector(
  env: Record<string, string> = {},
  overrides: Parameters<typeof startConnector>[2] = {},
) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'connector-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  const config = parseConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    DEMO_USER_EMAIL: DEMO_EMAIL,
    DEMO_USER_PASSWORD: DEMO_PASSWORD,
    CALLBACK_WAIT_SECONDS: '1',
    LOGIN_RATE_LIMIT: '1000',
    ...env,
  });
  const connector: RunningConnector = await startConnector(config, logger, overrides);
  return {
    connector,
    dataDir,
    logs,
    close: async () => {
      await connector.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The CSRF token of a page's form. */
export const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** A supertest agent logged in to the dashboard as the demo user (its session cookie kept). */
export async function loggedInAgent(url: string): Promise<ReturnType<typeof request.agent>> {
  const agent = request.agent(url);
  const login = await agent.get('/login');
  await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfOf(login.text), email: DEMO_EMAIL, password: DEMO_PASSWORD })
    .expect(303);
  return agent;
}
