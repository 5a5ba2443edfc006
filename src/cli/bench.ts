import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../config/config.js';
import { MagentoClient } from '../magento/client.js';
import { authorizationHeader } from '../oauth1/sign.js';
import { startConnector } from '../app/main.js';
import { createFileRecordStore } from '../storage/file-record-store.js';
import { magentoTransport } from '../sync/magento2/channel.js';
import { productsConnector } from '../sync/magento2/connectors.js';
import { stockConnector, type SourceItemRow } from '../sync/magento2/stock.js';
import { runSync } from '../sync/run-sync.js';
import got from 'got';
import OAuth from 'oauth-1.0a';
import { generateCatalog } from '../simulator/catalog/generate.js';
import { Catalog } from '../simulator/catalog/catalog.js';
import { parseSearchCriteria } from '../simulator/catalog/search-criteria.js';
import { startSimulator } from '../simulator/server.js';
import { runScale, type Adapter } from '../bench/scale.js';
import { crashFigures } from '../bench/crash.js';
import { startBenchPostgres } from '../bench/postgres.js';
import { webhookFigures } from '../bench/webhooks.js';
import { createPostgresStorage } from '../storage/postgres/postgres-storage.js';

/** Benchmarks, printed as one JSON document. Loopback only; every loop is bounded. */

function heapMb(): number {
  global.gc?.();
  return Math.round(process.memoryUsage().heapUsed / 1e5) / 10;
}

function timeIt<T>(fn: () => T): { ms: number; value: T } {
  const t = performance.now();
  const value = fn();
  return { ms: Math.round((performance.now() - t) * 10) / 10, value };
}

function percentile(sorted: number[], p: number): number {
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 100) / 100;
}

function catalogFigures(products: number) {
  const before = heapMb();
  const gen = timeIt(() => generateCatalog({ seed: 1, products, customers: 0, orders: 0, now: new Date() }));
  const catalog = new Catalog(gen.value);
  const after = heapMb();
  const mid = gen.value.products[Math.floor(products / 2)]!.updated_at;
  const query = {
    'searchCriteria[filter_groups][0][filters][0][field]': 'updated_at',
    'searchCriteria[filter_groups][0][filters][0][value]': mid,
    'searchCriteria[filter_groups][0][filters][0][condition_type]': 'gteq',
    'searchCriteria[sortOrders][0][field]': 'updated_at',
    'searchCriteria[pageSize]': '100',
  };
  const runs: number[] = [];
  for (let i = 0; i < 20; i++) runs.push(timeIt(() => catalog.searchProducts(parseSearchCriteria(query))).ms);
  runs.sort((a, b) => a - b);
  return {
    products,
    generate_ms: gen.ms,
    heap_mb: Math.round((after - before) * 10) / 10,
    search_updated_since_sorted_page_ms: { p50: percentile(runs, 0.5), max: runs.at(-1) },
  };
}

/** A manual integration in the simulator: the four credentials its admin shows. */
async function manualCredentials(simUrl: string) {
  const created = await got
    .post(`${simUrl}/admin/api/integrations`, { json: { name: `bench ${Date.now()}`, all_resources: true } })
    .json<{ id: number }>();
  const act = await got.post(`${simUrl}/admin/api/integrations/${created.id}/activate`, { json: {} }).json<{
    credentials: {
      consumer_key: string;
      consumer_secret: string;
      access_token: string;
      access_token_secret: string;
    };
  }>();
  return act.credentials;
}

async function signedRestFigures(requests: number) {
  const sim = await startSimulator({ port: 0, products: 1000, customers: 0, orders: 0 });
  try {
    const c = await manualCredentials(sim.url);
    const oauth = new OAuth({
      consumer: { key: c.consumer_key, secret: c.consumer_secret },
      signature_method: 'HMAC-SHA256',
      hash_function: (base, key) => createHmac('sha256', key).update(base).digest('base64'),
    });
    const token = { key: c.access_token, secret: c.access_token_secret };
    const url = `${sim.url}/rest/V1/products`;
    const data = { 'searchCriteria[pageSize]': '20', 'searchCriteria[currentPage]': '3' };
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < requests; i++) {
      const t = performance.now();
      const header = oauth.toHeader(oauth.authorize({ url, method: 'GET', data }, token));
      await got(url, { searchParams: data, headers: { ...header } }).json();
      latencies.push(performance.now() - t);
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      requests,
      requests_per_second: Math.round(requests / seconds),
      latency_ms: {
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        p99: percentile(latencies, 0.99),
      },
      nonces_recorded: sim.state.nonces.size,
    };
  } finally {
    await sim.close();
  }
}

/** sign() against a raw HMAC over the same base string: what the signing wrapper costs. */
function signingFigures(iterations: number) {
  const url =
    'https://shop.example.com/rest/V1/products?searchCriteria%5BpageSize%5D=20&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=caf%C3%A9%20%2B%20x';
  const credentials = {
    consumerKey: 'k'.repeat(32),
    consumerSecret: 's'.repeat(32),
    token: 't'.repeat(32),
    tokenSecret: 'u'.repeat(32),
  };
  const base = `GET&${encodeURIComponent(url)}&${'x'.repeat(400)}`;
  const sign = timeIt(() => {
    for (let i = 0; i < iterations; i++) authorizationHeader({ method: 'GET', url }, credentials);
  });
  const hmac = timeIt(() => {
    for (let i = 0; i < iterations; i++) createHmac('sha256', 's&u').update(base).digest('base64');
  });
  return {
    iterations,
    sign_us_per_call: Math.round(((sign.ms * 1000) / iterations) * 100) / 100,
    raw_hmac_us_per_call: Math.round(((hmac.ms * 1000) / iterations) * 100) / 100,
  };
}

/** Requests per second with and without signing, against the same local endpoint. */
async function signedVsUnsigned(requests: number) {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const client = new MagentoClient({
    storeBaseUrl: base,
    credentials: {
      consumerKey: 'k'.repeat(32),
      consumerSecret: 's'.repeat(32),
      token: 't'.repeat(32),
      tokenSecret: 'u'.repeat(32),
    },
  });
  const params: [string, string][] = [['searchCriteria[pageSize]', '20']];
  const rate = async (fn: () => Promise<unknown>) => {
    const started = performance.now();
    for (let i = 0; i < requests; i++) await fn();
    return Math.round(requests / ((performance.now() - started) / 1000));
  };
  try {
    const unsigned = await rate(() => got(`${base}rest/V1/products?searchCriteria%5BpageSize%5D=20`).json());
    const signed = await rate(() => client.get('V1/products', { searchParams: params }));
    return { requests, unsigned_rps: unsigned, signed_rps: signed };
  } finally {
    server.close();
  }
}

/** 100 stores activate at once: callback answer time (as the store measured it) and end-to-end time. */
async function concurrentActivations(count: number) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-connector-'));
  const logger = pino({ level: 'silent' });
  const config = parseConfig({ NODE_ENV: 'test', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const connector = await startConnector(config, logger);
  // One store each: the connector treats a new key from a known store as a Reset.
  const stores = await Promise.all(
    Array.from({ length: count }, () => startSimulator({ port: 0, products: 1, customers: 0, orders: 0 })),
  );
  try {
    const created = await Promise.all(
      stores.map((sim, i) =>
        got
          .post(`${sim.url}/admin/api/integrations`, {
            json: {
              name: `bench ${i}`,
              endpoint_url: `${connector.url}/magento/callback`,
              identity_link_url: `${connector.url}/magento/identity`,
              all_resources: true,
            },
          })
          .json<{ id: number; consumer_key: string }>(),
      ),
    );
    const callbackMs: number[] = [];
    const endToEndMs: number[] = [];
    let active = 0;
    await Promise.all(
      stores.map(async (sim, i) => {
        const integration = created[i]!;
        const started = performance.now();
        const result = await got
          .post(`${sim.url}/admin/api/integrations/${integration.id}/activate`, { json: {} })
          .json<{ steps: { step: string; detail: string }[] }>();
        const detail = result.steps.find((s) => s.step === 'callback_post')?.detail ?? '';
        callbackMs.push(Number(/in (\d+) ms/.exec(detail)?.[1] ?? NaN));
        const record = await connector.activation.settled(integration.consumer_key);
        endToEndMs.push(performance.now() - started);
        if (record?.status === 'active') active++;
      }),
    );
    callbackMs.sort((a, b) => a - b);
    endToEndMs.sort((a, b) => a - b);
    return {
      concurrent: count,
      active,
      callback_response_ms: { p50: percentile(callbackMs, 0.5), p99: percentile(callbackMs, 0.99) },
      activation_end_to_end_ms: { p50: percentile(endToEndMs, 0.5), p99: percentile(endToEndMs, 0.99) },
    };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await connector.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A simulator in its own process, so its catalog does not count against the sync's memory. */
async function simulatorProcess(
  products: number,
  extra: string[] = [],
): Promise<{ url: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/simulator.ts', '--port', '0', '--products', String(products), ...extra],
    {
      env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Admin:\s+(http:\/\/\S+)\/admin\/integrations/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`simulator exited: ${out}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/**
 * A record store of the adapter (the embedded files, or PostgreSQL in its own server process) and a
 * signed client of a manual integration in the simulator: what a sync figure runs against.
 */
async function syncSetup(simUrl: string, adapter: Adapter, database: string) {
  const dir = await mkdtemp(path.join(tmpdir(), `bench-${database}-`));
  const pgServer = adapter === 'postgres' ? await startBenchPostgres() : undefined;
  const pgStorage = pgServer
    ? await createPostgresStorage({ url: await pgServer.createDatabase(database), key: randomBytes(32) })
    : undefined;
  const records = pgStorage ? pgStorage.records : createFileRecordStore(dir);
  const close = async () => {
    await (pgStorage ? pgStorage.close() : records.close());
    await pgServer?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const c = await manualCredentials(simUrl);
    const client = new MagentoClient({
      storeBaseUrl: `${simUrl}/`,
      credentials: {
        consumerKey: c.consumer_key,
        consumerSecret: c.consumer_secret,
        token: c.access_token,
        tokenSecret: c.access_token_secret,
      },
    });
    return { records, client, transport: magentoTransport(c.consumer_key, client), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Initial load of every product into a record store (the embedded files, or PostgreSQL in its own
 * server process): rate and this process's peak memory.
 */
async function syncFigures(products: number, adapter: Adapter = 'embedded') {
  const sim = await simulatorProcess(products);
  let setup: Awaited<ReturnType<typeof syncSetup>> | undefined;
  try {
    setup = await syncSetup(sim.url, adapter, 'sync_bench');
    const { records, transport } = setup;
    global.gc?.();
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 20);
    const started = performance.now();
    // Live heap after a collection every 20 pages: what the run really holds, garbage aside.
    let retainedPeak = 0;
    const run = await runSync({
      transport,
      connector: productsConnector,
      records,
      since: null,
      pageSize: 500,
      onPage: (state) => {
        if (state.page % 20 === 0 && global.gc) {
          global.gc();
          retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed);
        }
      },
    });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    return {
      adapter,
      products,
      created: run.counts.created,
      seconds: Math.round(seconds * 10) / 10,
      products_per_second: Math.round(products / seconds),
      peak_rss_mb: Math.round(peakRss / 1e5) / 10,
      peak_heap_mb: Math.round(peakHeap / 1e5) / 10,
      heap_growth_mb: Math.round((peakHeap - base.heapUsed) / 1e5) / 10,
      retained_heap_growth_mb: Math.round((Math.max(retainedPeak, base.heapUsed) - base.heapUsed) / 1e5) / 10,
    };
  } finally {
    sim.stop();
    await setup?.close();
  }
}

/** The connector's default SYNC_PAGE_SIZE: the figure a deployment gets without tuning. */
const STOCK_PAGE_SIZE = 200;

/**
 * Stock: a full scan of every MSI source item into a record store, twice. The first writes every row;
 * between the two, a few quantities change in the store, and the second scan must write only those.
 */
async function stockScanFigures(
  sourceItems: number,
  changed: number,
  adapter: Adapter = 'embedded',
  pageSize = STOCK_PAGE_SIZE,
) {
  // One source: one source item per product, so the count is exact.
  const sim = await simulatorProcess(sourceItems, ['--sources', '1', '--customers', '0', '--orders', '0']);
  let setup: Awaited<ReturnType<typeof syncSetup>> | undefined;
  try {
    setup = await syncSetup(sim.url, adapter, 'stock_bench');
    const { records, client, transport } = setup;
    const scan = async () => {
      global.gc?.();
      const base = process.memoryUsage().heapUsed;
      let retainedPeak = base;
      const started = performance.now();
      const run = await runSync({
        transport,
        connector: stockConnector,
        records,
        since: null,
        pageSize,
        onPage: (state) => {
          // Live heap after a collection every 10 pages: what the scan holds, garbage aside.
          if (state.page % 10 === 0 && global.gc) {
            global.gc();
            retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed);
          }
        },
      });
      const seconds = (performance.now() - started) / 1000;
      return {
        read: run.counts.read,
        created: run.counts.created,
        updated: run.counts.updated,
        unchanged: run.counts.unchanged,
        seconds: Math.round(seconds * 10) / 10,
        rows_per_second: Math.round(run.counts.read / seconds),
        retained_heap_growth_mb: Math.round((retainedPeak - base) / 1e5) / 10,
      };
    };
    const first = await scan();
    // A few quantities change in the store, spread over the scan.
    const page = await client.get<{ items: SourceItemRow[] }>('V1/inventory/source-items', {
      searchParams: [['searchCriteria[pageSize]', String(sourceItems)]],
    });
    const step = Math.max(1, Math.floor(page.items.length / changed));
    const edits = page.items
      .filter((_, i) => i % step === 0)
      .slice(0, changed)
      .map((item) => ({ ...item, quantity: item.quantity + 1, status: 1 }));
    page.items.length = 0;
    await client.post('V1/inventory/source-items', { sourceItems: edits });
    const second = await scan();
    return {
      adapter,
      source_items: sourceItems,
      page_size: pageSize,
      changed_in_store: edits.length,
      first_scan: first,
      second_scan: second,
    };
  } finally {
    sim.stop();
    await setup?.close();
  }
}

const HELP = `Usage: npm run bench -- [group ...] [options]

Groups (none given: simulator, connector, sync):
  simulator   catalog generation and search, signed REST against the simulator
  connector   signing cost, signed vs unsigned requests, 100 activations in-process
  sync        initial load of 10,000 and 100,000 products, per storage adapter
  stock       full scan of 100,000 MSI source items, then a second scan after a few changed
              in the store (only those written), per storage adapter
  scale       the connector as its own process against a canned store: 100 callbacks and
              1,000 concurrent activations per storage adapter and number of stored integrations,
              and (PostgreSQL) two instances against one; with the connector's CPU time per burst
              and a bare Node server timed the same way (machine_floor)
  crash       kill -9 the connector during a stream of activations, restart, check nothing is lost
  webhooks    simulator and connector as separate processes: 100 signed webhooks/s (10% sent twice),
              change in the store → local record written, p50/p99, duplicates applied once;
              per storage adapter

Options:
  --sizes 100,1000,10000       stored integrations (scale; default 100,1000,10000, with --quick 100)
  --adapters embedded,postgres storages (scale, sync, webhooks; default both)
  --rounds 50                  kills (crash; default 50)
  --seconds 10                 webhooks: how long the store changes rows (default 10, with --quick 3)
  --rate 100                   webhooks: changes per second (default 100)
  --quick                      scale: 200 concurrent activations instead of 1,000 and shorter waits;
                               crash: 5 rounds
  --help                       this text

Environment:
  BENCH_CPU_PROF=<dir>         each connector process writes a V8 CPU profile there when it exits

Prints one JSON document on stdout; scale and crash print a progress line per step on stderr.`;

const GROUPS = ['simulator', 'connector', 'sync', 'stock', 'scale', 'crash', 'webhooks'];
const VALUE_OPTIONS = ['--sizes', '--adapters', '--rounds', '--seconds', '--rate'];
const argv = process.argv.slice(2);
/** A usage error: the reason, where to look, exit code 2 (as the other commands). */
const usage = (message: string): never => {
  console.error(`${message}\nSee npm run bench -- --help.`);
  process.exit(2);
};
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
const only: string[] = [];
const values = new Map<string, string>();
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!;
  if (VALUE_OPTIONS.includes(arg)) {
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) usage(`${arg} needs a value, e.g. ${arg} 100.`);
    values.set(arg.slice(2), value!);
  } else if (arg === '--quick') {
    // A switch.
  } else if (arg.startsWith('-')) {
    usage(`Unknown option ${arg}.`);
  } else {
    only.push(arg);
  }
}
const optionValue = (name: string) => values.get(name);
const unknown = only.filter((g) => !GROUPS.includes(g));
if (unknown.length > 0) usage(`Unknown group ${unknown.join(', ')}: the groups are ${GROUPS.join(', ')}.`);
for (const name of ['rounds', 'seconds', 'rate']) {
  const value = optionValue(name);
  if (value !== undefined && !(Number.isInteger(Number(value)) && Number(value) > 0))
    usage(`--${name} takes a whole number above 0 (got ${value}).`);
}
// scale, crash and webhooks take a while and start processes: only when asked for by name.
const want = (name: string) =>
  only.includes(name) || (only.length === 0 && !['scale', 'crash', 'webhooks'].includes(name));
const quick = argv.includes('--quick');
const progress = (line: string) => console.error(line);
const list = (text: string | undefined, fallback: string) =>
  (text ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const scaleAdapters = list(optionValue('adapters'), 'embedded,postgres');
const syncAdapters = scaleAdapters as Adapter[];
const badAdapter = scaleAdapters.find((a) => a !== 'embedded' && a !== 'postgres');
if (badAdapter) usage(`Unknown adapter ${badAdapter}: use embedded, postgres or both.`);
const scaleSizes = list(optionValue('sizes'), quick ? '100' : '100,1000,10000').map(Number);
if (scaleSizes.some((n) => !Number.isInteger(n) || n < 0))
  usage('--sizes takes whole numbers separated by commas, e.g. --sizes 100,1000.');
const result = {
  node: process.version,
  ...(want('simulator') && {
    simulator_catalog: [catalogFigures(10_000), catalogFigures(100_000)],
    simulator_signed_rest_sequential: await signedRestFigures(2000),
  }),
  ...(want('connector') && {
    connector_signing: signingFigures(20_000),
    connector_signed_vs_unsigned_sequential: await signedVsUnsigned(2000),
    connector_concurrent_activations: await concurrentActivations(100),
  }),
  ...(want('sync') && {
    sync_initial_load: await (async () => {
      const out = [];
      for (const adapter of syncAdapters)
        for (const n of [10_000, 100_000]) {
          progress(`[sync] ${adapter}: initial load of ${n} products`);
          out.push(await syncFigures(n, adapter));
        }
      return out;
    })(),
  }),
  ...((want('stock') || want('sync')) && {
    sync_stock_full_scan: await (async () => {
      const out = [];
      for (const adapter of syncAdapters) {
        progress(`[stock] ${adapter}: two full scans of 100000 source items`);
        out.push(await stockScanFigures(100_000, 25, adapter));
      }
      return out;
    })(),
  }),
  ...(want('scale') && {
    scale: await runScale({
      sizes: scaleSizes,
      adapters: scaleAdapters as Adapter[],
      quick,
      progress,
    }),
  }),
  ...(want('webhooks') && {
    webhooks: await (async () => {
      const out = [];
      for (const adapter of syncAdapters)
        out.push(
          await webhookFigures({
            adapter,
            rate: Number(optionValue('rate') ?? 100),
            seconds: Number(optionValue('seconds') ?? (quick ? 3 : 10)),
            duplicates: 0.1,
            progress,
          }),
        );
      return out;
    })(),
  }),
  ...(want('crash') && {
    crash: await crashFigures(Number(optionValue('rounds') ?? (quick ? 5 : 50)), progress),
  }),
};
console.log(JSON.stringify(result, null, 2));
