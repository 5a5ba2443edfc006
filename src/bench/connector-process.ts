import { sleep, withTimeout } from './common.js';
import { spawnTsx, waitForOutput, type Exit, type TsxChild } from './child-process.js';

export const BENCH_DEMO_EMAIL = 'bench@example.com';
export const BENCH_DEMO_PASSWORD = 'bench-password-123';

export interface ConnectorProcessOptions {
  dataDir: string;
  /** Needed to read the data after the process exits (otherwise the key would be generated inside). */
  encryptionKey: string;
  databaseUrl?: string;
  /** 0 picks a free one; a fixed port lets a restarted connector keep its URL. */
  port?: number;
  /** More variables (they win over the defaults below). */
  env?: Record<string, string>;
}

export interface ConnectorProcess {
  url: string;
  pid: number;
  exited: Promise<Exit>;
  stderr: () => string;
  kill: (signal?: NodeJS.Signals) => void;
  survivors: () => number[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop: (graceMs?: number) => Promise<Exit>;
  process: TsxChild;
}

/** The connector as its own OS process (`src/cli/start.ts`), resolved once `GET /healthz` answers. */
export async function spawnConnector(options: ConnectorProcessOptions): Promise<ConnectorProcess> {
  const env: Record<string, string> = {
    // test: loopback stores are allowed (the canned store lives on 127.X.Y.Z).
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    DATA_DIR: options.dataDir,
    TOKEN_ENCRYPTION_KEY: options.encryptionKey,
    LOG_LEVEL: 'warn',
    DEMO_USER_EMAIL: BENCH_DEMO_EMAIL,
    DEMO_USER_PASSWORD: BENCH_DEMO_PASSWORD,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  };
  // BENCH_CPU_PROF=<dir>: each connector writes a V8 CPU profile there when it exits.
  const profileDir = process.env.BENCH_CPU_PROF;
  const p = spawnTsx(
    'src/cli/start.ts',
    [],
    env,
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
  let url: string;
  try {
    const m = await waitForOutput(p, /Dashboard:\s+(http:\/\/\S+?)\/\s/, 60_000);
    url = m[1] ?? '';
    const healthy = await healthz(url, 30_000, p);
    if (!healthy) throw new Error(`${url}/healthz did not answer; stderr: ${p.stderr().slice(-2000)}`);
  } catch (error) {
    p.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    pid: p.pid,
    exited: p.exited,
    stderr: p.stderr,
    kill: p.kill,
    survivors: p.survivors,
    process: p,
    stop: async (graceMs = 15_000) => {
      p.kill('SIGTERM');
      const first = await withTimeout(p.exited, graceMs);
      if (first !== 'timeout') return first;
      p.kill('SIGKILL');
      return p.exited;
    },
  };
}

async function healthz(url: string, timeoutMs: number, p: TsxChild): Promise<boolean> {
  let exited = false;
  void p.exited.then(() => (exited = true));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !exited) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  return false;
}
