import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { adminJson, rawRequest } from '../helpers/http.js';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 5, customers: 1, orders: 1 });
});
afterAll(() => sim.close());

const N = 400;

/** Unauthenticated calls: a healthy answer is the ACL 401, so any 503/429 is the injected fault. */
async function sample(count: number) {
  const statuses: number[] = [];
  let retryAfter = 0;
  let dropped = 0;
  for (let i = 0; i < count; i++) {
    try {
      const res = await rawRequest(sim.url, {
        method: 'GET',
        path: '/rest/V1/store/websites',
        headers: { connection: 'close' },
      });
      statuses.push(res.status);
      if (res.status === 429 && res.headers['retry-after'] === '7') retryAfter++;
    } catch {
      dropped++;
    }
  }
  return {
    statuses,
    retryAfter,
    dropped,
    share: (s: number) => statuses.filter((x) => x === s).length / count,
  };
}

describe('fault injection', () => {
  it('answers the configured share of 503s and 429s with Retry-After', async () => {
    const set = await adminJson(sim.url, 'PUT', '/faults', {
      rules: [{ route: '/rest/', errorRate: 0.3, rateLimitRate: 0.1, retryAfterSeconds: 7 }],
    });
    expect(set.status).toBe(200);
    const run = await sample(N);
    // Binomial sd for p=0.3, n=400 is 0.023: ±0.08 is over three sd.
    expect(run.share(503)).toBeGreaterThan(0.22);
    expect(run.share(503)).toBeLessThan(0.38);
    expect(run.share(429)).toBeGreaterThan(0.05);
    expect(run.share(429)).toBeLessThan(0.15);
    expect(run.retryAfter).toBe(run.statuses.filter((s) => s === 429).length);
    expect(run.share(401)).toBeGreaterThan(0.5);
  });

  it('drops the configured share of connections', async () => {
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/', dropRate: 0.25 }] });
    const run = await sample(200);
    expect(run.dropped / 200).toBeGreaterThan(0.13);
    expect(run.dropped / 200).toBeLessThan(0.37);
    expect(run.statuses.every((s) => s === 401)).toBe(true);
  });

  it('delays matching routes only, and never the admin API', async () => {
    await adminJson(sim.url, 'PUT', '/faults', { rules: [{ route: '/rest/V1/store', latencyMs: 300 }] });
    const started = Date.now();
    await rawRequest(sim.url, { method: 'GET', path: '/rest/V1/store/websites' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const faults = await adminJson<{ counters: { delayed: number } }>(sim.url, 'GET', '/faults');
    expect(faults.body.counters.delayed).toBeGreaterThanOrEqual(1);
  });

  it('refuses token requests with the configured oauth_problem, as the store does', async () => {
    await adminJson(sim.url, 'PUT', '/faults', {
      rules: [{ route: '/oauth/token/request', refuseRate: 1, oauthProblem: 'Consumer key has expired' }],
    });
    const res = await rawRequest(sim.url, { method: 'POST', path: '/oauth/token/request' });
    expect(res.status).toBe(401);
    expect(res.body).toBe('oauth_problem=Consumer+key+has+expired');
    // Other routes are not affected by a rule for this one.
    expect((await rawRequest(sim.url, { method: 'GET', path: '/rest/V1/store/websites' })).status).toBe(401);
    const faults = await adminJson<{ counters: { refused: number } }>(sim.url, 'GET', '/faults');
    expect(faults.body.counters.refused).toBe(1);
  });

  it('clears faults, and refuses an impossible configuration with 400', async () => {
    const bad = await adminJson<{ error: string }>(sim.url, 'PUT', '/faults', {
      rules: [{ route: '/rest/', errorRate: 0.8, dropRate: 0.5 }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/must not exceed 1/);
    await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    const run = await sample(50);
    expect(run.statuses.every((s) => s === 401)).toBe(true);
  });
});
