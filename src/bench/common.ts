import { readdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

/** Small pieces shared by the out-of-process harness (connector, canned store, load generator). */

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** 32 characters of [0-9a-z], as Magento issues keys, secrets, verifiers and tokens (contract §3.7). */
export function magentoToken(): string {
  const bytes = randomBytes(32);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export interface Credentials {
  key: string;
  secret: string;
  verifier: string;
  /** `http://127.X.Y.Z:<port>/`: one store origin per integration. */
  storeBaseUrl: string;
}

/**
 * A distinct loopback address per index (Linux routes all of 127.0.0.0/8 to loopback). `block` keeps
 * ranges apart: e.g. seeded stores and activating stores never share an origin.
 */
export function loopbackAddress(index: number, block: number): string {
  const a = Math.floor(index / 250);
  const b = (index % 250) + 1;
  if (a > 250) throw new Error(`loopback index ${index} is out of range`);
  return `127.${block}.${a}.${b}`;
}

/** Credentials for a fresh store at 127.<block>.x.y on the canned store's port. */
export function newCredentials(index: number, block: number, storePort: number): Credentials {
  return {
    key: magentoToken(),
    secret: magentoToken(),
    verifier: magentoToken(),
    storeBaseUrl: `http://${loopbackAddress(index, block)}:${storePort}/`,
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Nearest-rank percentile of an ascending list, rounded to 0.1 ms. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
  return Math.round(v * 10) / 10;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** 64 hex characters: a TOKEN_ENCRYPTION_KEY set explicitly, so results can be read after the process exits. */
export function newEncryptionKey(): string {
  return randomBytes(32).toString('hex');
}

/** Polls `check` until it returns true or `timeoutMs` passes; resolves with the last answer. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await sleep(intervalMs);
  }
}

/** The promise's value, or 'timeout' after `ms`; the timer is cleared either way (no open handle left). */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * CPU time a process has used, in ms: its main thread (the event loop) and all its threads. From
 * /proc's schedstat (nanoseconds), so it is the connector's own work whatever else the machine runs;
 * undefined where there is no /proc.
 */
export async function processCpuMs(pid: number): Promise<{ main: number; all: number } | undefined> {
  const readNs = async (file: string) => Number((await readFile(file, 'utf8')).split(' ')[0]);
  try {
    const main = await readNs(`/proc/${pid}/schedstat`);
    let all = 0;
    for (const task of await readdir(`/proc/${pid}/task`)) {
      all += await readNs(`/proc/${pid}/task/${task}/schedstat`).catch(() => 0);
    }
    return { main: main / 1e6, all: all / 1e6 };
  } catch {
    return undefined;
  }
}

/** Jiffies the whole machine spent busy and in all, from /proc/stat; undefined where there is none. */
export async function machineCpu(): Promise<{ busy: number; total: number } | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    const [, ...fields] = line.trim().split(/\s+/);
    const n = fields.map(Number);
    const total = n.reduce((a, b) => a + b, 0);
    // idle and iowait
    const idle = (n[3] ?? 0) + (n[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * Waits until the processes use under 5% of a core over half a second (their work from the last
 * step, such as the first syncs of new stores, is done), or `timeoutMs` passed; returns the ms waited.
 */
export async function waitIdle(pids: number[], timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  const used = async () => {
    let sum = 0;
    for (const pid of pids) sum += (await processCpuMs(pid))?.all ?? 0;
    return sum;
  };
  while (Date.now() - started < timeoutMs) {
    const before = await used();
    await sleep(500);
    if ((await used()) - before < 25) break;
  }
  return Date.now() - started;
}
