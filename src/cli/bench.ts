import { createHmac } from 'node:crypto';
import got from 'got';
import OAuth from 'oauth-1.0a';
import { generateCatalog } from '../simulator/catalog/generate.js';
import { Catalog } from '../simulator/catalog/catalog.js';
import { parseSearchCriteria } from '../simulator/rest/search-criteria.js';
import { startSimulator } from '../simulator/server.js';

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

async function signedRestFigures(requests: number) {
  const sim = await startSimulator({ port: 0, products: 1000, customers: 0, orders: 0 });
  try {
    const created = await got
      .post(`${sim.url}/admin/api/integrations`, { json: { name: 'bench', all_resources: true } })
      .json<{ id: number }>();
    const act = await got
      .post(`${sim.url}/admin/api/integrations/${created.id}/activate`, { json: {} })
      .json<{
        credentials: {
          consumer_key: string;
          consumer_secret: string;
          access_token: string;
          access_token_secret: string;
        };
      }>();
    const c = act.credentials;
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

const result = {
  node: process.version,
  simulator_catalog: [catalogFigures(10_000), catalogFigures(100_000)],
  simulator_signed_rest_sequential: await signedRestFigures(2000),
};
console.log(JSON.stringify(result, null, 2));
