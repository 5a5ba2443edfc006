import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO_MARKER } from '../../src/cli/demo-data.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { openStorage } from '../../src/storage/open.js';
import { runCli } from '../helpers/cli.js';
import { linkSimulatorStore } from '../helpers/linked-connector.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'demo-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

const SMALL_STORE = {
  NODE_ENV: 'test',
  SIMULATOR_PRODUCTS: '5',
  SIMULATOR_CUSTOMERS: '2',
  SIMULATOR_ORDERS: '2',
  LOG_LEVEL: undefined,
};

/**
 * Starts the demo on free ports, waits until it says it is ready, runs `whileUp` (if any), then stops
 * it with SIGTERM.
 */
async function runDemoUntilReady(
  data: string,
  whileUp: () => Promise<void> = async () => undefined,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/demo.ts', '--data', data, '--port', '0', '--store-port', '0'],
    { env: { ...process.env, NODE_OPTIONS: '', ...SMALL_STORE, DATA_DIR: dir } },
  );
  let stdout = '';
  let stderr = '';
  let ready = false;
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (/Press Ctrl-C/.test(stdout) && !ready) {
      ready = true;
      void whileUp().finally(() => child.kill('SIGTERM'));
    }
  });
  return { code: await exited, stdout, stderr };
}

describe('npm run demo -- --data', () => {
  it('refuses a folder it did not create, and deletes nothing', async () => {
    const real = path.join(dir, 'real');
    await mkdir(real);
    await writeFile(path.join(real, 'db.json'), '{"integrations":[]}');
    const res = await runCli('demo', ['--data', real, '--port', '0', '--store-port', '0'], {
      ...SMALL_STORE,
      DATA_DIR: dir,
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/was not created by the demo .* holds db\.json/);
    expect(res.stderr).toMatch(/nothing was deleted/);
    expect(await readFile(path.join(real, 'db.json'), 'utf8')).toBe('{"integrations":[]}');
    expect(await exists(path.join(real, DEMO_MARKER))).toBe(false);
  });

  it('refuses the folder of a demo that is running, and leaves its data alone', async () => {
    const data = path.join(dir, 'busy', 'demo');
    let second: { code: number; stderr: string } | undefined;
    let dbWhileUp = false;
    const first = await runDemoUntilReady(data, async () => {
      second = await runCli('demo', ['--data', data, '--port', '0', '--store-port', '0'], {
        ...SMALL_STORE,
        DATA_DIR: dir,
      });
      dbWhileUp = await exists(path.join(data, 'db.json'));
    });
    expect(first.code).toBe(0);
    expect(second?.code).toBe(2);
    expect(second?.stderr).toMatch(/another demo is running on this folder; nothing was deleted/);
    expect(dbWhileUp).toBe(true);
    // Once the first has stopped, the folder is the demo's to use again.
    expect((await runDemoUntilReady(data)).code).toBe(0);
  }, 60_000);

  it('creates a new folder with its marker, and empties that folder at the next start', async () => {
    const data = path.join(dir, 'fresh', 'demo');
    const first = await runDemoUntilReady(data);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`DATA_DIR=${data} npm run call`);
    expect(await exists(path.join(data, DEMO_MARKER))).toBe(true);
    expect(await exists(path.join(data, 'db.json'))).toBe(true);

    await writeFile(path.join(data, 'left-over.txt'), 'from the first run');
    const second = await runDemoUntilReady(data);
    expect(second.code).toBe(0);
    expect(await exists(path.join(data, 'left-over.txt'))).toBe(false);
    expect(await exists(path.join(data, DEMO_MARKER))).toBe(true);
  }, 60_000);
});

describe('the CLIs after a demo', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, products: 3, customers: 1, orders: 1 });
  });
  afterAll(async () => {
    await sim.close();
  });

  /** A data folder whose demo folder holds an active integration with the simulator. */
  async function dataWithDemoStore(name: string, marker = true): Promise<string> {
    const dataDir = path.join(dir, name);
    const demoDir = path.join(dataDir, 'demo');
    await mkdir(demoDir, { recursive: true });
    if (marker) await writeFile(path.join(demoDir, DEMO_MARKER), '');
    const { storage } = await openStorage({
      dataDir: demoDir,
      envKey: undefined,
      production: false,
      logger: { warn: () => undefined },
    });
    await linkSimulatorStore(storage, sim);
    await storage.close();
    return dataDir;
  }

  it('use the demo’s store when DATA_DIR has none, and say so on stderr', async () => {
    const dataDir = await dataWithDemoStore('after-demo');
    const res = await runCli('call', ['GET', 'V1/store/storeConfigs'], {
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
    });
    expect(res.stderr).toContain(
      `No linked store in ${dataDir}/: using the demo's data in ${path.join(dataDir, 'demo')}/`,
    );
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)[0].base_url).toBe(`${sim.url}/`);
    // DATA_DIR itself was only looked at: no key file made there, and no warning about one.
    expect(res.stderr).not.toContain('Generated a new token encryption key');
    expect(await exists(path.join(dataDir, 'encryption.key'))).toBe(false);

    const list = await runCli('store', ['list'], { NODE_ENV: 'test', DATA_DIR: dataDir });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/active .*http:\/\/127\.0\.0\.1/);
  });

  it('leave a folder without the demo marker alone', async () => {
    const dataDir = await dataWithDemoStore('not-a-demo', false);
    const res = await runCli('call', ['GET', 'V1/store/storeConfigs'], {
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/No active integration/);
    expect(res.stderr).not.toMatch(/demo's data/);
  });
});
