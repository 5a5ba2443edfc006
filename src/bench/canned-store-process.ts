import type { CannedStoreStats, Registration } from './canned-store.js';
import { withTimeout } from './common.js';
import { spawnTsx, waitForOutput, type TsxChild } from './child-process.js';

export interface CannedStoreProcess {
  port: number;
  adminUrl: string;
  register: (integrations: Registration[]) => Promise<void>;
  stats: (withKeys?: boolean) => Promise<CannedStoreStats>;
  configure: (settings: { tokenLatencyMs?: number; restLatencyMs?: number }) => Promise<void>;
  stop: () => Promise<void>;
  process: TsxChild;
}

/** The canned store (src/bench/canned-store.ts) in its own process. */
export async function startCannedStoreProcess(
  options: { port?: number; tokenLatencyMs?: number; restLatencyMs?: number } = {},
): Promise<CannedStoreProcess> {
  const p = spawnTsx(
    'src/bench/canned-store-main.ts',
    [
      '--port',
      String(options.port ?? 0),
      '--token-latency-ms',
      String(options.tokenLatencyMs ?? 0),
      '--rest-latency-ms',
      String(options.restLatencyMs ?? 0),
    ],
    {},
  );
  const m = await waitForOutput(p, /\{"listening":(\d+)\}/, 30_000);
  const port = Number(m[1]);
  const adminUrl = `http://127.0.0.1:${port}`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${adminUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`canned store ${path}: HTTP ${res.status} ${await res.text()}`);
  };
  return {
    port,
    adminUrl,
    process: p,
    register: (integrations) => post('/__register', { integrations }),
    configure: (settings) => post('/__config', settings),
    stats: async (withKeys = true) => {
      const res = await fetch(`${adminUrl}/__stats${withKeys ? '' : '?keys=0'}`);
      return (await res.json()) as CannedStoreStats;
    },
    stop: async () => {
      p.kill('SIGTERM');
      await withTimeout(p.exited, 5000);
      p.kill('SIGKILL');
    },
  };
}
