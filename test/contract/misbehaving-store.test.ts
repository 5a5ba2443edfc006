import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import type { Report } from '../../src/contract/report.js';
import { runContract } from '../../src/contract/run.js';

/**
 * A store that gets things wrong the simulator never does: inconsistent pages, a value read
 * back changed, writes that do not stick, a base URL that redirects, a broken route.
 */
let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(express.json());
  app.get('/', (_req, res) => {
    res.redirect(302, '/default/');
  });
  app.use('/rest', (req, res, next) => {
    if (!req.headers.authorization) {
      res.status(401).json({
        message: "The consumer isn't authorized to access %resources.",
        parameters: { resources: 'x' },
      });
      return;
    }
    next();
  });
  app.get('/rest/V1/store/storeConfigs', (_req, res) => {
    res.json([{ base_url: 'https://elsewhere.example/' }]);
  });
  app.get('/rest/V1/products', (req, res) => {
    const value = String(req.query['searchCriteria[filter_groups][0][filters][0][value]'] ?? '');
    res.json({
      items: [{ sku: 'A' }, { sku: 'B' }],
      search_criteria: value ? { filter_groups: [{ filters: [{ value: value.replace(/\+/g, ' ') }] }] } : {},
      total_count: 10,
    });
  });
  app.get('/rest/V1/products/:sku', (req, res) => {
    if (req.params.sku.startsWith('contract/')) res.status(404).json({ message: 'not found' });
    else res.json({ sku: 'something-else' });
  });
  app.post('/rest/V1/products', (req, res) => {
    res.json({ sku: (req.body as { product: { sku: string } }).product.sku });
  });
  app.delete('/rest/V1/products/:sku', (_req, res) => {
    res.json(true);
  });
  app.get('/rest/V1/orders', (_req, res) => {
    res.status(500).json({ message: 'Internal Error.' });
  });
  app.get('/rest/V1/customers/search', (_req, res) => {
    res.json({ items: [], total_count: 0 });
  });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const credentials = {
  consumerKey: 'k'.repeat(32),
  consumerSecret: 's'.repeat(32),
  token: 't'.repeat(32),
  tokenSecret: 'u'.repeat(32),
};
const check = (r: Report, id: string) => r.checks.find((c) => c.id === id)!;

describe('checks against a misbehaving store', () => {
  let report: Report;
  beforeAll(async () => {
    report = await runContract({ storeBaseUrl: base, credentials, allowWrites: true, timeoutMs: 5000 });
  });

  it('warns of a redirecting base URL and a store that names another base URL', () => {
    expect(check(report, 'base-url.storefront')).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/Use \/default\//),
    });
    expect(check(report, 'sign.sha256')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/base URL is https:\/\/elsewhere.example\//),
    });
  });

  it('fails pagination that repeats items across pages', () => {
    expect(check(report, 'queries.pagination')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/pages 1 and 2 overlap/),
    });
  });

  it('fails a filter value read back changed', () => {
    expect(check(report, 'queries.special-characters')).toMatchObject({
      status: 'fail',
      cause: expect.stringMatching(/\+ read as a space/),
    });
  });

  it('flags every missing security check, and Bearer acceptance', () => {
    for (const id of ['security.tampered-signature', 'security.nonce-reuse', 'security.future-timestamp']) {
      expect(check(report, id)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^INSECURE/) });
    }
    expect(check(report, 'bearer').status).toBe('warn');
    expect(check(report, 'sign.sha1').status).toBe('warn');
  });

  it('warns when a resource answers neither data nor an ACL refusal', () => {
    expect(check(report, 'acl')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/Orders \(Magento_Sales::actions_view\): HTTP 500/),
    });
  });

  it('fails writes that do not read back', () => {
    expect(check(report, 'writes.product-lifecycle')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^GET V1\/products\/contract-test-/),
    });
  });

  it('fails, with the likely cause, when the store cannot be reached', async () => {
    const down = await runContract({ storeBaseUrl: 'http://127.0.0.1:9/', credentials, timeoutMs: 2000 });
    expect(check(down, 'base-url.storefront')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(
        /^Could not reach http:\/\/127\.0\.0\.1:9\/: connection refused .*ECONNREFUSED/,
      ),
      cause: expect.stringMatching(/Nothing listens/),
    });
    // One failure; the checks after it are not run.
    expect(down.summary.fail).toBe(1);
  });
});
