import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  machineCpu,
  newCredentials,
  newEncryptionKey,
  percentile,
  processCpuMs,
  sleep,
  waitIdle,
  waitUntil,
} from './common.js';
import type { CannedStoreProcess } from './canned-store-process.js';
import { startCannedStoreProcess } from './canned-store-process.js';
import { spawnTsx, waitForOutput } from './child-process.js';
import { spawnConnector, type ConnectorProcess } from './connector-process.js';
import type { CallbackResult } from './load-generator.js';
import { startLoadGenerator } from './load-process.js';
import { startBenchPostgres, type BenchPostgres } from './postgres.js';
import { readStoredIntegrations, type StoredOutcome } from './read-results.js';
import { seedIntegrations } from './seed.js';

/**
 * `npm run bench -- scale`: the connector as its own process, a canned store and a load generator in
 * theirs. For each adapter and each number of stored integrations: a burst of 100 callbacks and one of
 * 1,000 concurrent activations, measured from the client side and from the stored records.
 */

export type Adapter = 'embedded' | 'postgres';

export interface ScaleOptions {
  sizes: number[];
  adapters: Adapter[];
  quick: boolean;
  progress: (line: string) => void;
}

// Scheduled syncs off: the seeded stores are fake and must not add load; the first sync of a new store still runs.
const CONNECTOR_ENV = { SYNC_INTERVALS: 'products=0,customers=0,orders=0' };

interface Burst {
  results: CallbackResult[];
  /** The connectors' CPU while the callbacks were answered, and until the store stopped issuing tokens. */
  cpu?: { callbacks: CpuMs; total: CpuMs };
  /** Share of the machine's CPU in use over the same time (every process, not only the connectors). */
  machineBusy?: number;
}

type CpuMs = { main: number; all: number };

/** Posts `count` callbacks at once (concurrency = count) and waits until the store stops issuing tokens. */
export async function burst(options: {
  store: CannedStoreProcess;
  targets: string[];
  count: number;
  block: number;
  settleTimeoutMs: number;
  /** Connector pids whose CPU time is reported. */
  pids?: number[];
}): Promise<Burst> {
  const { store } = options;
  const cpuNow = async (): Promise<CpuMs | undefined> => {
    const each = await Promise.all((options.pids ?? []).map(processCpuMs));
    if (each.length === 0 || each.some((c) => !c)) return undefined;
    return each.reduce<CpuMs>((sum, c) => ({ main: sum.main + c!.main, all: sum.all + c!.all }), {
      main: 0,
      all: 0,
    });
  };
  // Each burst starts on idle connectors: the previous burst's stores are still having their first sync.
  await waitIdle(options.pids ?? []);
  const before = (await store.stats(false)).totals;
  const credentials = Array.from({ length: options.count }, (_, i) =>
    newCredentials(i, options.block, store.port),
  );
  const load = await startLoadGenerator({
    storeAdminUrl: store.adminUrl,
    targets: options.targets,
    credentials,
    concurrency: options.count,
    sourceBlock: 250 - (options.block % 40),
    timeoutMs: 30_000,
  });
  const cpuStart = await cpuNow();
  const machineStart = await machineCpu();
  const results = await load.done;
  const cpuAnswered = await cpuNow();
  const acked = results.filter((r) => r.status === 200).length;
  await settleStore(store, before.accessTokens + acked, options.settleTimeoutMs);
  const cpuEnd = await cpuNow();
  const machineEnd = await machineCpu();
  const since = (a: CpuMs, b: CpuMs): CpuMs => ({
    main: Math.round(b.main - a.main),
    all: Math.round(b.all - a.all),
  });
  return {
    results,
    ...(machineStart && machineEnd && machineEnd.total > machineStart.total
      ? {
          machineBusy:
            Math.round(
              ((machineEnd.busy - machineStart.busy) / (machineEnd.total - machineStart.total)) * 100,
            ) / 100,
        }
      : {}),
    ...(cpuStart && cpuAnswered && cpuEnd
      ? { cpu: { callbacks: since(cpuStart, cpuAnswered), total: since(cpuStart, cpuEnd) } }
      : {}),
  };
}

/**
 * Waits until the store has issued `accessTokens` in all, or the bound passed; then a moment for the
 * connector to store the last answers. (Silence from the store proves nothing: a connector busy
 * writing its storage is quiet too.)
 */
export async function settleStore(store: CannedStoreProcess, accessTokens: number, timeoutMs: number) {
  await waitUntil(async () => (await store.stats(false)).totals.accessTokens >= accessTokens, timeoutMs, 250);
  await sleep(1000);
}

/** Client-side answer times and, from the stored records, activations and end-to-end times. */
export function burstFigures(b: Burst, records: Map<string, StoredOutcome>) {
  const answered = b.results.map((r) => r.ms).sort((x, y) => x - y);
  const acked = b.results.filter((r) => r.status === 200);
  const activeOnes = acked.filter((r) => records.get(r.key)?.status === 'active');
  const e2e = activeOnes
    .map((r) => Date.parse(records.get(r.key)?.activatedAt ?? '') - r.sentAt)
    .sort((x, y) => x - y);
  const firstSent = Math.min(...b.results.map((r) => r.sentAt));
  const lastActive = Math.max(...activeOnes.map((r) => Date.parse(records.get(r.key)?.activatedAt ?? '')));
  const statuses: Record<string, number> = {};
  for (const r of b.results) {
    const k = r.status ? String(r.status) : (r.error ?? 'error');
    statuses[k] = (statuses[k] ?? 0) + 1;
  }
  const notActive: Record<string, number> = {};
  for (const r of acked) {
    const s = records.get(r.key)?.status ?? 'missing';
    if (s !== 'active') notActive[s] = (notActive[s] ?? 0) + 1;
  }
  return {
    callbacks: b.results.length,
    answers: statuses,
    callback_ms: {
      p50: percentile(answered, 0.5),
      p99: percentile(answered, 0.99),
      max: percentile(answered, 1),
    },
    answered_within_5s: b.results.filter((r) => r.withinTimeout).length,
    active: activeOnes.length,
    lost: acked.length - activeOnes.length,
    ...(Object.keys(notActive).length ? { lost_by_status: notActive } : {}),
    activations_per_second:
      activeOnes.length > 0
        ? Math.round((activeOnes.length / ((lastActive - firstSent) / 1000)) * 10) / 10
        : 0,
    end_to_end_ms: { p50: percentile(e2e, 0.5), p99: percentile(e2e, 0.99) },
    // The connector's own CPU (event-loop thread, and all threads), however busy the machine was.
    ...(b.cpu
      ? {
          connector_cpu_ms: {
            until_answered: b.cpu.callbacks,
            until_settled: b.cpu.total,
            main_per_activation: Math.round((b.cpu.total.main / Math.max(1, activeOnes.length)) * 100) / 100,
          },
        }
      : {}),
    ...(b.machineBusy !== undefined ? { machine_cpu_busy: b.machineBusy } : {}),
  };
}

async function oneSize(
  adapter: Adapter,
  stored: number,
  store: CannedStoreProcess,
  pg: BenchPostgres | undefined,
  options: ScaleOptions,
  blockBase: number,
) {
  const tag = `${adapter} ${stored}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-scale-'));
  const encryptionKey = newEncryptionKey();
  let connector: ConnectorProcess | undefined;
  try {
    const databaseUrl = pg ? await pg.createDatabase(`bench_${stored}_${Date.now() % 1e6}`) : undefined;
    options.progress(`[scale] ${tag}: seeding ${stored} integrations`);
    const seed = await seedIntegrations({
      dataDir,
      encryptionKey,
      databaseUrl,
      count: stored,
      storePort: store.port,
      timeoutMs: options.quick ? 60_000 : 300_000,
    });
    options.progress(`[scale] ${tag}: seeded in ${seed.ms} ms; starting the connector`);
    connector = await spawnConnector({ dataDir, encryptionKey, databaseUrl, env: CONNECTOR_ENV });
    const settleMs = options.quick ? 30_000 : 120_000;
    // A server that has run for a while, not code running for the first time: the first burst (like
    // the machine floor's) warms it up and is not reported.
    options.progress(`[scale] ${tag}: warm-up burst`);
    await burst({
      store,
      targets: [connector.url],
      count: 100,
      block: 170 + (blockBase % 10),
      settleTimeoutMs: settleMs,
    });
    options.progress(`[scale] ${tag}: 100 concurrent callbacks`);
    const small = await burst({
      store,
      targets: [connector.url],
      count: 100,
      block: blockBase,
      settleTimeoutMs: settleMs,
      pids: [connector.pid],
    });
    const bigCount = options.quick ? 200 : 1000;
    options.progress(`[scale] ${tag}: ${bigCount} concurrent activations`);
    const big = await burst({
      store,
      targets: [connector.url],
      count: bigCount,
      block: blockBase + 1,
      settleTimeoutMs: settleMs,
      pids: [connector.pid],
    });
    options.progress(`[scale] ${tag}: stopping the connector and reading its records`);
    const stopStarted = performance.now();
    // A generous grace: writes queued before SIGTERM still complete, and they are part of the result.
    const exit = await connector.stop(60_000);
    const stopMs = Math.round(performance.now() - stopStarted);
    connector = undefined;
    const records = new Map(
      (await readStoredIntegrations({ dataDir, encryptionKey, databaseUrl })).map((r) => [r.consumerKey, r]),
    );
    return {
      stored,
      seed_ms: seed.ms,
      callbacks_100: burstFigures(small, records),
      [`concurrent_${bigCount}`]: burstFigures(big, records),
      connector_exit: exit,
      connector_stop_ms: stopMs,
    };
  } finally {
    if (connector) await connector.stop(2000);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Two connector processes on one database, callbacks alternating, against one on the same load. */
async function twoInstances(
  stored: number,
  store: CannedStoreProcess,
  pg: BenchPostgres,
  options: ScaleOptions,
) {
  const count = options.quick ? 200 : 1000;
  const run = async (instances: number, block: number) => {
    const databaseUrl = await pg.createDatabase(`bench_two_${instances}_${Date.now() % 1e6}`);
    const encryptionKey = newEncryptionKey();
    const dirs = await Promise.all(
      Array.from({ length: instances }, () => mkdtemp(path.join(tmpdir(), 'bench-two-'))),
    );
    const connectors: ConnectorProcess[] = [];
    try {
      await seedIntegrations({
        dataDir: dirs[0] ?? '',
        encryptionKey,
        databaseUrl,
        count: stored,
        storePort: store.port,
        timeoutMs: 300_000,
      });
      for (const dataDir of dirs)
        connectors.push(await spawnConnector({ dataDir, encryptionKey, databaseUrl, env: CONNECTOR_ENV }));
      options.progress(`[scale] postgres ${stored}: ${count} activations over ${instances} instance(s)`);
      const b = await burst({
        store,
        targets: connectors.map((c) => c.url),
        count,
        block,
        settleTimeoutMs: options.quick ? 30_000 : 120_000,
        pids: connectors.map((c) => c.pid),
      });
      await Promise.all(connectors.map((c) => c.stop(60_000)));
      const records = new Map(
        (await readStoredIntegrations({ dataDir: dirs[0] ?? '', encryptionKey, databaseUrl })).map((r) => [
          r.consumerKey,
          r,
        ]),
      );
      return burstFigures(b, records);
    } finally {
      await Promise.all(connectors.map((c) => c.stop(2000)));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  };
  return { stored, one_instance: await run(1, 90), two_instances: await run(2, 91) };
}

/** The same bursts against a bare Node server (see floor-server-main.ts): what this machine allows. */
async function machineFloor(store: CannedStoreProcess, options: ScaleOptions) {
  const p = spawnTsx('src/bench/floor-server-main.ts', [], {});
  try {
    const port = Number((await waitForOutput(p, /\{"listening":(\d+)\}/, 30_000))[1]);
    const target = `http://127.0.0.1:${port}`;
    const figures = async (count: number, block: number) => {
      const credentials = Array.from({ length: count }, (_, i) => newCredentials(i, block, store.port));
      const load = await startLoadGenerator({
        storeAdminUrl: store.adminUrl,
        targets: [target],
        credentials,
        concurrency: count,
        sourceBlock: 250 - (block % 40),
        timeoutMs: 30_000,
      });
      const answered = (await load.done).map((r) => r.ms).sort((x, y) => x - y);
      return {
        p50: percentile(answered, 0.5),
        p99: percentile(answered, 0.99),
        max: percentile(answered, 1),
      };
    };
    options.progress('[scale] machine floor: a bare Node server, same load generator');
    // The first burst warms up both sides, as the connector's first burst does.
    await figures(100, 180);
    const bigCount = options.quick ? 200 : 1000;
    return {
      callbacks_100_ms: await figures(100, 181),
      [`concurrent_${bigCount}_ms`]: await figures(bigCount, 182),
    };
  } finally {
    p.kill('SIGKILL');
    await p.exited;
  }
}

export async function runScale(options: ScaleOptions): Promise<Record<string, unknown>> {
  const store = await startCannedStoreProcess();
  const out: Record<string, unknown> = {};
  try {
    out.machine_floor = await machineFloor(store, options);
    let block = 1;
    for (const adapter of options.adapters) {
      let pg: BenchPostgres | undefined;
      try {
        if (adapter === 'postgres') {
          options.progress('[scale] starting an embedded PostgreSQL');
          pg = await startBenchPostgres();
        }
        const sizes: unknown[] = [];
        for (const stored of options.sizes) {
          try {
            sizes.push(await oneSize(adapter, stored, store, pg, options, block));
          } catch (error) {
            options.progress(`[scale] ${adapter} ${stored}: ${(error as Error).message}`);
            sizes.push({ stored, error: (error as Error).message });
          }
          block += 2;
        }
        const entry: Record<string, unknown> = { sizes };
        if (pg) {
          try {
            entry.two_instances = await twoInstances(options.sizes[0] ?? 100, store, pg, options);
          } catch (error) {
            options.progress(`[scale] postgres two instances: ${(error as Error).message}`);
            entry.two_instances = { error: (error as Error).message };
          }
        }
        out[adapter] = entry;
      } catch (error) {
        options.progress(`[scale] ${adapter}: ${(error as Error).message}`);
        out[adapter] = { error: (error as Error).message };
      } finally {
        await pg?.stop();
      }
    }
  } finally {
    await store.stop();
  }
  return out;
}
