import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { reportSchema } from '../../src/contract/report.js';
import { runContract } from '../../src/contract/run.js';
import { runCli } from '../helpers/cli.js';

const CREDENTIALS = {
  consumerKey: 'a'.repeat(32),
  consumerSecret: 'b'.repeat(32),
  token: 'c'.repeat(32),
  tokenSecret: 'd'.repeat(32),
};
const credentialArgs = [
  '--consumer-key',
  CREDENTIALS.consumerKey,
  '--consumer-secret',
  CREDENTIALS.consumerSecret,
  '--access-token',
  CREDENTIALS.token,
  '--access-token-secret',
  CREDENTIALS.tokenSecret,
];

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('npm run contract against an unreachable store', () => {
  it('reports one failure naming the cause and the URL, and the other checks as not run', async () => {
    const store = `http://127.0.0.1:${await closedPort()}`;
    const res = await runCli('contract', ['--store', store, ...credentialArgs], {});
    expect(res.code).toBe(1);
    const fails = res.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(fails).toHaveLength(1);
    expect(fails[0]).toContain(`Could not reach ${store}/: connection refused by ${new URL(store).host}`);
    expect(res.stdout).toMatch(/^NOT RUN {2}17 checks, as the store could not be reached: base-url\.rest, /m);
    expect(res.stdout).toMatch(/0 passed, 1 failed, 1 warnings, 0 skipped, 17 not run\./);

    const json = await runCli('contract', ['--store', store, ...credentialArgs, '--json'], {});
    const report = reportSchema.parse(JSON.parse(json.stdout));
    expect(report.summary).toEqual({ pass: 0, fail: 1, warn: 1, skip: 17 });
    const notRun = report.checks.filter((c) => c.detail.startsWith('Not run:'));
    expect(notRun).toHaveLength(17);
    expect(notRun.every((c) => c.status === 'skip' && c.durationMs === 0)).toBe(true);
  });

  it('goes on check by check when the store answered before it went away', async () => {
    // Answers the first request, then stops listening: later failures are each check's own.
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', connection: 'close' }).end('<html></html>');
      server.close();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as { port: number };
    const report = await runContract({ storeBaseUrl: `http://127.0.0.1:${port}/`, credentials: CREDENTIALS });
    expect(report.checks.find((c) => c.id === 'base-url.storefront')?.status).toBe('pass');
    expect(report.checks.filter((c) => c.detail.startsWith('Not run:'))).toEqual([]);
    expect(report.checks.find((c) => c.id === 'base-url.rest')?.detail).toMatch(/connection refused/);
  });
});
