import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { reportSchema, type CheckResult, type Report } from '../../src/contract/report.js';
import { runContract } from '../../src/contract/run.js';
import { NOT_FOR_SAAS } from '../../src/contract/saas.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';

const TENANT = 'contracttenant';
const CLIENT = { clientId: 'contract-ims-client', clientSecret: 'p8e-contract-secret-00001' };

let sim: RunningSimulator;
const ims = (overrides: Partial<typeof CLIENT> = {}) => ({
  tokenUrl: `${sim.url}/ims/token/v3`,
  scopes: 'openid,AdobeID,commerce.accs',
  ...CLIENT,
  ...overrides,
});
const check = (report: Report, id: string): CheckResult => {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
};

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    products: 30,
    customers: 3,
    orders: 3,
    saas: { tenantId: TENANT },
    imsClients: [CLIENT],
  });
});
afterAll(() => sim.close());

describe('contract checks against a Cloud Service instance (IMS)', () => {
  it('run the IMS checks and the ones that apply, and say which do not apply', async () => {
    const report = await runContract({
      storeBaseUrl: `${sim.url}/${TENANT}/`,
      ims: ims(),
      allowWrites: true,
      timeoutMs: 5000,
    });
    expect(reportSchema.parse(report)).toEqual(report);
    for (const id of ['ims.token', 'ims.call', 'ims.bad-token', 'base-url.rest', 'queries.pagination']) {
      expect(check(report, id).status).toBe('pass');
    }
    expect(check(report, 'queries.special-characters').status).toBe('pass');
    expect(check(report, 'acl').status).toBe('pass');
    expect(check(report, 'writes.product-lifecycle')).toMatchObject({ status: 'pass' });
    for (const id of Object.keys(NOT_FOR_SAAS)) {
      expect(check(report, id)).toMatchObject({
        status: 'skip',
        detail: expect.stringMatching(/^Does not apply to Adobe Commerce as a Cloud Service: /),
      });
    }
    expect(report.summary.fail).toBe(0);
    // Only plain http warns.
    expect(report.checks.filter((c) => c.status === 'warn').map((c) => c.id)).toEqual(['base-url.scheme']);
  });

  it('fail at ims.token with the reason when IMS refuses the secret, skipping what needs a token', async () => {
    const report = await runContract({
      storeBaseUrl: `${sim.url}/${TENANT}/`,
      ims: ims({ clientSecret: 'p8e-not-the-right-one-000' }),
      timeoutMs: 5000,
    });
    expect(check(report, 'ims.token')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/HTTP 401, invalid_client/),
    });
    expect(check(report, 'ims.call').status).toBe('skip');
    expect(check(report, 'queries.pagination').status).toBe('skip');
    expect(JSON.stringify(report)).not.toContain('p8e-not-the-right-one-000');
  });

  it('fails ims.call on a wrong tenant id, naming it', async () => {
    const report = await runContract({
      storeBaseUrl: `${sim.url}/wrongtenant/`,
      ims: ims(),
      timeoutMs: 5000,
    });
    expect(check(report, 'ims.token').status).toBe('pass');
    expect(check(report, 'ims.call')).toMatchObject({
      status: 'fail',
      cause: expect.stringMatching(/tenant id/),
    });
  });

  it('runs from the CLI with --ims-client-id and the secret from the environment', async () => {
    const out = await runCli(
      'contract',
      [
        '--store',
        `${sim.url}/${TENANT}/`,
        '--ims-client-id',
        CLIENT.clientId,
        '--ims-url',
        `${sim.url}/ims/token/v3`,
        '--json',
      ],
      { IMS_CLIENT_SECRET: CLIENT.clientSecret },
    );
    expect(out.code).toBe(0);
    const report = reportSchema.parse(JSON.parse(out.stdout));
    expect(check(report, 'ims.call').status).toBe('pass');
    expect(check(report, 'sign.sha1').status).toBe('skip');
    expect(out.stdout + out.stderr).not.toContain(CLIENT.clientSecret);
  });
});
