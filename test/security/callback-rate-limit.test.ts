import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { clientKey } from '../../src/http/invalid-request-limiter.js';
import { startTestConnector } from '../helpers/connector.js';

type TestConnector = Awaited<ReturnType<typeof startTestConnector>>;
let t: TestConnector;
let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 1, customers: 1, orders: 1 });
  t = await startTestConnector();
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

/** A callback POST from a chosen loopback address (127.0.0.0/8 is all local on Linux). */
function postFrom(
  localAddress: string,
  fields: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const url = new URL(`${t.connector.url}/magento/callback`);
  const body = new URLSearchParams(fields).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const valid = () => ({
  oauth_consumer_key: 'k'.repeat(32),
  oauth_consumer_secret: 's'.repeat(32),
  oauth_verifier: 'v'.repeat(32),
  store_base_url: `${sim.url}/`,
});

describe('callback rate limit: only invalid callbacks count', () => {
  it('accepts 200 valid callbacks from one address', async () => {
    const first = await postFrom('127.0.0.1', valid());
    expect(first.status).toBe(200);
    const statuses: number[] = [first.status];
    for (let batch = 0; batch < 199; batch += 20) {
      const n = Math.min(20, 199 - batch);
      const answers = await Promise.all(Array.from({ length: n }, () => postFrom('127.0.0.1', valid())));
      statuses.push(...answers.map((a) => a.status));
    }
    expect(statuses).toHaveLength(200);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('refuses a client that floods invalid callbacks, while a valid one from another client passes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await postFrom('127.0.0.3', { ...valid(), oauth_consumer_key: 'NOT-A-KEY' });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 30).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
    const blocked = await postFrom('127.0.0.3', valid());
    expect(blocked.status).toBe(429);
    expect(JSON.parse(blocked.body).error).toMatch(/Too many invalid callbacks/);

    const other = await postFrom('127.0.0.4', valid());
    expect(other.status).toBe(200);
  });
});

describe('clientKey', () => {
  it('counts an IPv6 client by its /56, as it can pick any address inside it', () => {
    expect(clientKey('2001:db8:1234:5600::1')).toBe(clientKey('2001:db8:1234:56ff:abcd::9'));
    expect(clientKey('2001:db8:1234:5600::1')).not.toBe(clientKey('2001:db8:1234:5700::1'));
  });
  it('counts an IPv4 client, mapped or not, by its address', () => {
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('203.0.113.8')).not.toBe(clientKey('203.0.113.7'));
  });
});
