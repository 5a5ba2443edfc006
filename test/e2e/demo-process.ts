import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RunningDemo {
  storeUrl: string;
  connectorUrl: string;
  email: string;
  password: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** `npm run demo` as a user starts it (free ports, a temp data folder), read from its own output. */
export async function startDemo(): Promise<RunningDemo> {
  const data = await mkdtemp(path.join(tmpdir(), 'demo-data-'));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/demo.ts', '--port', '0', '--store-port', '0', '--data', data],
    { env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000);
    const check = () => {
      if (/Press Ctrl-C to stop both/.test(out)) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`npm run demo did not start:\n${out}`);
  }
  const find = (label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(out)?.[1] ?? '';
  const [email = '', password = ''] = find('Demo login')
    ? (/Demo login:\s+(\S+) \/ (\S+)/.exec(out)?.slice(1) ?? [])
    : [];
  return {
    storeUrl: find('Store admin \\(the merchant\\)').replace(/\/admin\/integrations$/, ''),
    connectorUrl: find('Connector \\(the integrator\\)').replace(/\/$/, ''),
    email,
    password,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => {
          void rm(data, { recursive: true, force: true }).then(() => resolve(code));
        });
        // One Ctrl-C stops both servers.
        child.kill('SIGINT');
      }),
  };
}
