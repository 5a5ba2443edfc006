import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import { startTestConnector } from '../helpers/connector.js';

/** A bare TCP listener on a free loopback port: a process that is neither of ours. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('a port already in use', () => {
  let dataDir: string;
  let held: { port: number; server: Server };
  const env = () => ({
    DATA_DIR: dataDir,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    SIMULATOR_HOST: '127.0.0.1',
    DATABASE_URL: undefined,
    TOKEN_ENCRYPTION_KEY: undefined,
    LOG_LEVEL: 'silent',
  });
  // Who holds it: the process id where lsof can see it, else the command that finds it.
  const holder = (port: number) => new RegExp(`process \\d+|lsof -nP -iTCP:${port} -sTCP:LISTEN`);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mic-port-'));
    held = await holdPort();
  });
  afterAll(async () => {
    held.server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('npm start names the address, the connector holding it, and PORT', async () => {
    const running = await startTestConnector();
    try {
      const port = new URL(running.connector.url).port;
      const { code, stderr } = await runCli('start', [], { ...env(), PORT: port });
      expect(code).toBe(1);
      expect(stderr).toContain(
        `The connector cannot listen on 127.0.0.1:${port}: the port is already in use.`,
      );
      expect(stderr).toContain('a connector (another `npm start` or `npm run demo`)');
      expect(stderr).toMatch(holder(Number(port)));
      expect(stderr).toContain(`PORT=${Number(port) + 1} npm start`);
      expect(stderr).not.toMatch(/destructure|at .*\.ts:\d+/);
    } finally {
      await running.close();
    }
  });

  it('npm run simulator names the address, the simulator holding it, and --port', async () => {
    const sim: RunningSimulator = await startSimulator({ port: 0, products: 1, customers: 1, orders: 1 });
    try {
      const port = Number(new URL(sim.url).port);
      const { code, stderr } = await runCli('simulator', ['--port', String(port)], env());
      expect(code).toBe(1);
      expect(stderr).toContain(`The store simulator cannot listen on 127.0.0.1:${port}`);
      expect(stderr).toContain('a store simulator (another `npm run simulator` or `npm run demo`)');
      expect(stderr).toContain(`npm run simulator -- --port ${port + 1} (or SIMULATOR_PORT)`);
      expect(stderr).not.toMatch(/destructure|at .*\.ts:\d+/);
    } finally {
      await sim.close();
    }
  });

  it("npm run demo says which of its two ports is taken: the store's", async () => {
    const { code, stderr } = await runCli(
      'demo',
      ['--store-port', String(held.port), '--port', '0', '--data', path.join(dataDir, 'demo-a')],
      env(),
    );
    expect(code).toBe(1);
    expect(stderr).toContain(`The demo's store simulator cannot listen on 127.0.0.1:${held.port}`);
    expect(stderr).toMatch(holder(held.port));
    expect(stderr).toContain(`npm run demo -- --port 0 --store-port ${held.port + 1}`);
    expect(stderr).not.toMatch(/destructure|at .*\.ts:\d+/);
  });

  it("npm run demo says which of its two ports is taken: the connector's", async () => {
    const { code, stderr } = await runCli(
      'demo',
      ['--port', String(held.port), '--store-port', '0', '--data', path.join(dataDir, 'demo-b')],
      env(),
    );
    expect(code).toBe(1);
    expect(stderr).toContain(`The demo's connector cannot listen on 127.0.0.1:${held.port}`);
    expect(stderr).toContain(`npm run demo -- --port ${held.port + 1} --store-port 0`);
    expect(stderr).not.toMatch(/destructure|at .*\.ts:\d+/);
  });
});
