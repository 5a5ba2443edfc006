import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CheckResult, Report } from '../../src/contract/report.js';
import { reportSchema } from '../../src/contract/report.js';
import { runContract } from '../../src/contract/run.js';
import type { OAuthCredentials } from '../../src/oauth1/index.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { adminJson } from '../helpers/http.js';
import { manualIntegration } from '../helpers/simulator.js';

let sim: RunningSimulator;

/** A manual integration: the four credentials Magento shows, no handshake needed. */
const manual = async (resources: string[] | 'all') =>
  (await manualIntegration(sim.url, resources)).credentials;

let full: Required<OAuthCredentials>;
const run = (credentials = full, allowWrites = false) =>
  runContract({ storeBaseUrl: `${sim.url}/`, credentials, allowWrites, timeoutMs: 5000 });
const check = (report: Report, id: string): CheckResult => {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
};
const settings = (body: unknown) => adminJson(sim.url, 'PUT', '/settings', body);

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 30, customers: 3, orders: 3 });
  full = await manual('all');
});
afterAll(() => sim.close());

describe('contract checks against a well-behaved store', () => {
  it('pass (but for plain http), with writes, and the JSON report matches its schema', async () => {
    const report = await run(full, true);
    expect(reportSchema.parse(report)).toEqual(report);
    const notPassing = report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}:${c.status}`);
    expect(notPassing).toEqual(['base-url.scheme:warn']);
    expect(report.summary).toEqual({ pass: report.checks.length - 1, fail: 0, warn: 1, skip: 0 });
    expect(check(report, 'writes.product-lifecycle').detail).toMatch(/created, read, updated and deleted/);
    // The test product is gone.
    const left = sim.catalog.searchProducts({
      filter_groups: [{ filters: [{ field: 'sku', value: 'contract-test-%', condition_type: 'like' }] }],
    });
    expect(left.total_count).toBe(0);
  });

  it('skips writes unless allowed', async () => {
    const report = await run();
    expect(check(report, 'writes.product-lifecycle')).toMatchObject({
      status: 'skip',
      detail: expect.stringMatching(/--allow-writes/),
    });
  });
});

describe('entity checks', () => {
  it('pass with the envelope and row fields when granted, and say "not granted" when not', async () => {
    const ids = ['entities.customer-groups', 'entities.shipments', 'entities.categories', 'entities.stock'];
    const granted = await run();
    for (const id of ids)
      expect(check(granted, id)).toMatchObject({
        status: 'pass',
        detail: expect.stringMatching(/^HTTP 200 in \d+ ms: [12] of \d+ rows/),
      });
    expect(check(granted, 'entities.stock').detail).toMatch(/sku, source_code, quantity, status/);
    const limited = await run(await manual(['Magento_Backend::stores', 'Magento_Sales::shipment']));
    expect(check(limited, 'entities.shipments').status).toBe('pass');
    for (const [id, resource] of [
      ['entities.customer-groups', 'Magento_Customer::group'],
      ['entities.categories', 'Magento_Catalog::categories'],
      ['entities.stock', 'Magento_InventoryApi::source'],
    ]) {
      expect(check(limited, id as string)).toMatchObject({
        status: 'skip',
        detail: `Not granted: the integration lacks ${resource}, so ${id === 'entities.stock' ? 'stock (msi source items)' : id === 'entities.categories' ? 'categories' : 'customer groups'} cannot be synced.`,
        fix: expect.stringContaining(resource as string),
      });
    }
    expect(limited.summary.fail).toBe(0);
  });
});

describe('each check fails or warns on the matching misbehaviour', () => {
  afterAll(async () => {
    await settings({
      magento_version: '2.4.8',
      bearer: false,
      misbehave: { skip_signature: false, skip_nonce: false, skip_timestamp: false, rest_redirect_to: '' },
    });
    await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
  });

  it('a store that does not verify signatures is flagged insecure', async () => {
    await settings({ misbehave: { skip_signature: true } });
    const c = check(await run(), 'security.tampered-signature');
    await settings({ misbehave: { skip_signature: false } });
    expect(c).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^INSECURE/),
      cause: expect.stringMatching(/does not verify OAuth signatures/),
    });
  });

  it('a store that does not record nonces is flagged insecure', async () => {
    await settings({ misbehave: { skip_nonce: true } });
    const c = check(await run(), 'security.nonce-reuse');
    await settings({ misbehave: { skip_nonce: false } });
    expect(c).toMatchObject({ status: 'fail', cause: expect.stringMatching(/can be replayed/) });
  });

  it('a store that does not check timestamps is flagged insecure', async () => {
    await settings({ misbehave: { skip_timestamp: true } });
    const c = check(await run(), 'security.future-timestamp');
    await settings({ misbehave: { skip_timestamp: false } });
    expect(c).toMatchObject({ status: 'fail', detail: expect.stringMatching(/an hour ahead/) });
  });

  it('a REST API that redirects fails the base-URL check and stops the signed checks', async () => {
    await settings({ misbehave: { rest_redirect_to: 'https://shop.example.com/' } });
    const report = await run();
    await settings({ misbehave: { rest_redirect_to: '' } });
    expect(check(report, 'base-url.rest')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/redirects: HTTP 301 to https:\/\/shop.example.com\/rest\//),
    });
    expect(check(report, 'sign.sha256').status).toBe('fail');
    expect(check(report, 'queries.pagination')).toMatchObject({
      status: 'skip',
      detail: expect.stringMatching(/see sign.sha256/),
    });
  });

  it('2.4.6: natural parameter order and %2F decoding are reported with their cause', async () => {
    await settings({ magento_version: '2.4.6' });
    const report = await run();
    await settings({ magento_version: '2.4.8' });
    expect(check(report, 'queries.ten-filter-groups')).toMatchObject({
      status: 'warn',
      cause: expect.stringMatching(/sorts names naturally/),
    });
    expect(check(report, 'queries.slash-in-path')).toMatchObject({
      status: 'warn',
      cause: expect.stringMatching(/#37913/),
    });
  });

  it('2.4.3 accepts HMAC-SHA1 (warn); a value double-encoding store fails the special-characters check', async () => {
    await settings({ magento_version: '2.4.3' });
    const old = check(await run(), 'sign.sha1');
    await settings({ magento_version: '2.4.8', signature: { doubleEncodeValues: true } });
    const special = check(await run(), 'queries.special-characters');
    await settings({ magento_version: '2.4.8' });
    expect(old).toMatchObject({ status: 'warn', cause: expect.stringMatching(/2\.4\.3 or older/) });
    expect(special).toMatchObject({
      status: 'fail',
      storeSaid: 'The signature is invalid. Verify and try again.',
    });
  });

  it('Bearer use switched on is a warning', async () => {
    await settings({ bearer: true });
    const c = check(await run(), 'bearer');
    await settings({ bearer: false });
    expect(c).toMatchObject({ status: 'warn', detail: expect.stringMatching(/without a signature/) });
  });

  it('a 429 storm turns checks into warnings naming Retry-After', async () => {
    await adminJson(sim.url, 'PUT', '/faults', {
      rules: [{ route: '/rest/', rateLimitRate: 1, retryAfterSeconds: 9 }],
    });
    const report = await run();
    await adminJson(sim.url, 'PUT', '/faults', { rules: [] });
    expect(check(report, 'sign.sha256')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/429 Too Many Requests \(Retry-After: 9 s\)/),
    });
    expect(report.summary.fail).toBe(0);
  });

  it('a wrong secret fails the signed call with the store’s words and skips the rest', async () => {
    const report = await run({ ...full, consumerSecret: 'x'.repeat(32) });
    expect(check(report, 'sign.sha256')).toMatchObject({
      status: 'fail',
      storeSaid: 'The signature is invalid. Verify and try again.',
      cause: expect.stringMatching(/.+/),
    });
    expect(check(report, 'acl').status).toBe('skip');
  });

  it('ACL gaps are reported as "not granted", not as store failures', async () => {
    const report = await run(await manual(['Magento_Backend::stores']), true);
    expect(check(report, 'acl')).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(/Products \(Magento_Catalog::products\): not granted/),
    });
    expect(check(report, 'queries.pagination').status).toBe('skip');
    expect(check(report, 'writes.product-lifecycle')).toMatchObject({
      status: 'skip',
      detail: expect.stringMatching(/not granted Magento_Catalog::products/),
    });
    expect(report.summary.fail).toBe(0);
  });

  it('an integration without Magento_Backend::stores fails the signed call, explaining the ACL refusal', async () => {
    const report = await run(await manual(['Magento_Backend::dashboard']));
    expect(check(report, 'sign.sha256')).toMatchObject({
      status: 'fail',
      storeSaid: "The consumer isn't authorized to access Magento_Backend::stores.",
      cause: expect.stringMatching(/ACL|resource/i),
    });
    expect(check(report, 'acl').status).toBe('skip');
  });
});
