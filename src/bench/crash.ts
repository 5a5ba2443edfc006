import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, newCredentials, newEncryptionKey, sleep, waitUntil, withTimeout } from './common.js';
import type { CannedStoreProcess } from './canned-store-process.js';
import { startCannedStoreProcess } from './canned-store-process.js';
import type { CannedStoreStats } from './canned-store.js';
import { spawnConnector, type ConnectorProcess } from './connector-process.js';
import type { CallbackResult } from './load-generator.js';
import { startLoadGenerator, type LoadProcess } from './load-process.js';
import { readStoredIntegrations, type StoredOutcome } from './read-results.js';

/**
 * Durability of activations against a connector process that dies: kill -9 at random moments during a
 * stream of callbacks (or SIGTERM), restart on the same data dir, let it recover, then compare what the
 * connector stored with what the callbacks were told and what the store issued.
 */

/** A failed record must tell the admin what to do: click Activate (or Reauthorize) again in the store. */
export const ADVICE = /\b(activate|reauthori[sz]e)\b/i;

export interface Findings {
  /** Callbacks answered 200 whose consumer key is not in storage. */
  missing: string[];
  /** Records still pending/exchanging after recovery. */
  unfinished: { key: string; status: string }[];
  /** Failed records whose reason does not send the admin back to Activate/Reauthorize. */
  failedWithoutAdvice: { key: string; reason: string }[];
  /** Active records for which the store did not issue exactly one access token. */
  tokenMismatch: { key: string; issued: number }[];
  /** The store issued an access token but the connector has none (not active, or no record). */
  lost: { key: string; status: string }[];
}

/** Compares storage with the callbacks' answers and the store's counts; `scope` limits it to some keys. */
export function check(
  acked: CallbackResult[],
  allRecords: StoredOutcome[],
  stats: CannedStoreStats,
  scope?: Set<string>,
): Findings & { statuses: Record<string, number> } {
  const inScope = (key: string) => !scope || scope.has(key);
  const records = allRecords.filter((r) => inScope(r.consumerKey));
  const byKey = new Map(records.map((r) => [r.consumerKey, r]));
  const statuses: Record<string, number> = {};
  for (const r of allRecords) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const issued = Object.entries(stats.keys ?? {}).filter(([key]) => inScope(key));
  const issuedTo = new Map(issued);
  return {
    statuses,
    missing: acked.filter((r) => inScope(r.key) && !byKey.has(r.key)).map((r) => r.key),
    unfinished: records
      .filter((r) => r.status === 'pending' || r.status === 'exchanging')
      .map((r) => ({ key: r.consumerKey, status: r.status })),
    failedWithoutAdvice: records
      .filter((r) => r.status === 'failed' && !ADVICE.test(r.statusReason ?? ''))
      .map((r) => ({ key: r.consumerKey, reason: r.statusReason ?? '' })),
    tokenMismatch: records
      .filter((r) => r.status === 'active' && issuedTo.get(r.consumerKey)?.accessTokens !== 1)
      .map((r) => ({ key: r.consumerKey, issued: issuedTo.get(r.consumerKey)?.accessTokens ?? 0 })),
    lost: issued
      .filter(
        ([key, s]) =>
          s.accessTokens > 0 && !(byKey.get(key)?.status === 'active' && byKey.get(key)?.hasAccessToken),
      )
      .map(([key]) => ({ key, status: byKey.get(key)?.status ?? 'missing' })),
  };
}

/** Waits until the store saw no token or REST call for `quietMs` (bounded): the connector has caught up. */
async function storeQuiet(store: CannedStoreProcess, quietMs: number, timeoutMs: number): Promise<void> {
  let last = -1;
  let since = Date.now();
  await waitUntil(
    async () => {
      const t = (await store.stats(false)).totals;
      const activity = t.requestTokens + t.accessTokens + t.refusals + t.restCalls;
      if (activity !== last) {
        last = activity;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    timeoutMs,
    100,
  );
}

export interface CrashOptions {
  rounds: number;
  /** Kill after a random time in this range (ms) of streaming callbacks. */
  killAfterMs: [number, number];
  /** Added by the canned store before each token answer, so kills land inside exchanges. */
  tokenLatencyMs: number;
  /** Bound of the wait after a restart (the wait ends earlier once the store has been quiet 1.5 s). */
  recoveryMs: number;
  progress?: (line: string) => void;
}

export interface RoundReport {
  round: number;
  killedAfterMs: number;
  /** Processes of the killed connector's group still alive after SIGKILL (should be none). */
  survivors: number[];
  acknowledged: number;
  restartMs: number;
  /** The data opened right after the kill. */
  readable: boolean;
  error?: string;
  statuses: Record<string, number>;
  /** Over the callbacks of earlier rounds only (this round's get their recovery next). */
  problems: Record<keyof Findings, number>;
}

export interface CrashReport {
  rounds: RoundReport[];
  acknowledged: CallbackResult[];
  /** The data opened after the last recovery and a clean stop. */
  finalReadable: boolean;
  finalError?: string;
  /** After the last recovery, over every round. */
  findings: Findings;
  statuses: Record<string, number>;
  issuedAccessTokens: number;
}

const counts = (f: Findings): Record<keyof Findings, number> => ({
  missing: f.missing.length,
  unfinished: f.unfinished.length,
  failedWithoutAdvice: f.failedWithoutAdvice.length,
  tokenMismatch: f.tokenMismatch.length,
  lost: f.lost.length,
});

interface Bed {
  store: CannedStoreProcess;
  dataDir: string;
  encryptionKey: string;
  port: number;
  start: () => Promise<ConnectorProcess>;
  stream: (block: number, concurrency: number) => Promise<LoadProcess>;
  /** Stops a running connector cleanly, then reads and checks everything acknowledged so far. */
  inspect: (
    acked: CallbackResult[],
    scope?: Set<string>,
  ) => Promise<{ findings: Findings; statuses: Record<string, number>; stats: CannedStoreStats }>;
  close: () => Promise<void>;
}

async function testBed(tokenLatencyMs: number): Promise<Bed> {
  const store = await startCannedStoreProcess({ tokenLatencyMs });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-crash-'));
  const encryptionKey = newEncryptionKey();
  // A fixed port: the restarted connector keeps its URL, as behind a load balancer.
  const port = await freePort();
  const running = new Set<ConnectorProcess>();
  const streams = new Set<LoadProcess>();
  return {
    store,
    dataDir,
    encryptionKey,
    port,
    start: async () => {
      const c = await spawnConnector({ dataDir, encryptionKey, port });
      running.add(c);
      void c.exited.then(() => running.delete(c));
      return c;
    },
    stream: async (block, concurrency) => {
      const credentials = Array.from({ length: 5000 }, (_, i) => newCredentials(i, block, store.port));
      const load = await startLoadGenerator({
        storeAdminUrl: store.adminUrl,
        targets: [`http://127.0.0.1:${port}`],
        credentials,
        concurrency,
        spacingMs: 5,
        sourceBlock: 250 - (block % 40),
        timeoutMs: 10_000,
      });
      streams.add(load);
      void load.done.finally(() => streams.delete(load)).catch(() => undefined);
      return load;
    },
    inspect: async (acked, scope) => {
      const records = await readStoredIntegrations({ dataDir, encryptionKey });
      const stats = await store.stats(true);
      const { statuses, ...findings } = check(acked, records, stats, scope);
      return { findings, statuses, stats };
    },
    close: async () => {
      for (const s of streams) s.process.kill('SIGKILL');
      for (const c of running) c.kill('SIGKILL');
      await Promise.all([...running].map((c) => c.exited));
      await store.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const acknowledged = (results: CallbackResult[]) => results.filter((r) => r.status === 200);

/**
 * kill -9 during a stream of activations, `rounds` times, restarting on the same data dir. After each
 * kill the data (at rest) must open, and the callbacks of earlier rounds, which have had a restart and
 * a recovery wait since, must be finished. After the last round the connector recovers once more, is
 * stopped cleanly, and everything is checked.
 */
export async function crashRun(options: CrashOptions): Promise<CrashReport> {
  const bed = await testBed(options.tokenLatencyMs);
  const rounds: RoundReport[] = [];
  const acked: CallbackResult[] = [];
  const recovered = new Set<string>();
  const empty: Findings = {
    missing: [],
    unfinished: [],
    failedWithoutAdvice: [],
    tokenMismatch: [],
    lost: [],
  };
  try {
    let connector = await bed.start();
    for (let round = 1; round <= options.rounds; round++) {
      const load = await bed.stream(round, 4);
      const [lo, hi] = options.killAfterMs;
      const killedAfterMs = Math.round(lo + Math.random() * (hi - lo));
      await sleep(killedAfterMs);
      connector.kill('SIGKILL');
      await connector.exited;
      const survivors = connector.survivors();
      const results = await load.stop();
      const ackedNow = acknowledged(results);
      acked.push(...ackedNow);
      const report: RoundReport = {
        round,
        killedAfterMs,
        survivors,
        acknowledged: ackedNow.length,
        restartMs: 0,
        readable: true,
        statuses: {},
        problems: counts(empty),
      };
      try {
        const seen = await bed.inspect(acked, recovered);
        report.statuses = seen.statuses;
        report.problems = counts(seen.findings);
      } catch (error) {
        report.readable = false;
        report.error = (error as Error).message;
      }
      rounds.push(report);
      options.progress?.(
        `[crash] round ${round}/${options.rounds}: killed after ${killedAfterMs} ms, ${ackedNow.length} acknowledged, ${JSON.stringify(report.statuses)}`,
      );
      if (!report.readable) break;
      for (const r of results) recovered.add(r.key);
      const restartStarted = performance.now();
      connector = await bed.start();
      report.restartMs = Math.round(performance.now() - restartStarted);
      await storeQuiet(bed.store, 1500, options.recoveryMs);
    }
    await connector.stop();
    let final: Awaited<ReturnType<Bed['inspect']>> | undefined;
    let finalError: string | undefined;
    try {
      final = await bed.inspect(acked);
    } catch (error) {
      finalError = (error as Error).message;
    }
    return {
      rounds,
      acknowledged: acked,
      finalReadable: finalError === undefined,
      ...(finalError === undefined ? {} : { finalError }),
      findings: final?.findings ?? empty,
      statuses: final?.statuses ?? {},
      issuedAccessTokens: final?.stats.totals.accessTokens ?? 0,
    };
  } finally {
    await bed.close();
  }
}

export interface SigtermReport {
  exit: { code: number | null; signal: string | null };
  exitMs: number;
  /** Exchanges the store had started but not finished when SIGTERM was sent. */
  exchangesInFlightAtSignal: number;
  acknowledged: CallbackResult[];
  findings: Findings;
  statuses: Record<string, number>;
  readable: boolean;
  error?: string;
}

/** SIGTERM while exchanges run: how the process ends, and (after a restart) whether anything was lost. */
export async function sigtermRun(options: {
  tokenLatencyMs: number;
  streamMs: number;
  exitBoundMs: number;
  recoveryMs: number;
}): Promise<SigtermReport> {
  const bed = await testBed(options.tokenLatencyMs);
  try {
    let connector = await bed.start();
    const load = await bed.stream(1, 8);
    await sleep(options.streamMs);
    const t = (await bed.store.stats(false)).totals;
    const signalled = performance.now();
    connector.kill('SIGTERM');
    const ended = await withTimeout(connector.exited, options.exitBoundMs);
    const exitMs = Math.round(performance.now() - signalled);
    if (ended === 'timeout') {
      connector.kill('SIGKILL');
      await connector.exited;
    }
    const acked = acknowledged(await load.stop());
    connector = await bed.start();
    await storeQuiet(bed.store, 1500, options.recoveryMs);
    await connector.stop();
    const base = {
      exit: ended === 'timeout' ? { code: null, signal: 'timeout' } : ended,
      exitMs,
      exchangesInFlightAtSignal: t.requestTokens - t.accessTokens,
      acknowledged: acked,
    };
    try {
      const { findings, statuses } = await bed.inspect(acked);
      return { ...base, findings, statuses, readable: true };
    } catch (error) {
      const empty: Findings = {
        missing: [],
        unfinished: [],
        failedWithoutAdvice: [],
        tokenMismatch: [],
        lost: [],
      };
      return { ...base, findings: empty, statuses: {}, readable: false, error: (error as Error).message };
    }
  } finally {
    await bed.close();
  }
}

/** `npm run bench -- crash`: the kill -9 run as figures (counts, not keys). */
export async function crashFigures(rounds: number, progress: (line: string) => void) {
  const started = performance.now();
  const report = await crashRun({
    rounds,
    killAfterMs: [300, 1500],
    tokenLatencyMs: 150,
    recoveryMs: 6000,
    progress,
  });
  const restart = report.rounds.map((r) => r.restartMs).sort((a, b) => a - b);
  return {
    rounds: report.rounds.length,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    acknowledged: report.acknowledged.length,
    issued_access_tokens: report.issuedAccessTokens,
    statuses_at_end: report.statuses,
    problems_at_end: counts(report.findings),
    unreadable_rounds: report.rounds.filter((r) => !r.readable).length + (report.finalReadable ? 0 : 1),
    surviving_processes: report.rounds.reduce((n, r) => n + r.survivors.length, 0),
    restart_ms: { p50: restart[Math.floor(restart.length / 2)] ?? null, max: restart.at(-1) ?? null },
  };
}
