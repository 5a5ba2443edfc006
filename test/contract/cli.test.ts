import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import request from 'supertest';
import { validateXML } from 'xmllint-wasm';
import { reportJsonSchema, reportSchema } from '../../src/contract/report.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import { DEMO_EMAIL } from '../helpers/connector.js';
import { adminJson } from '../helpers/http.js';
import { manualIntegration } from '../helpers/simulator.js';

let sim: RunningSimulator;
let dir: string;
let creds: string[];

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 10, customers: 2, orders: 2 });
  dir = await mkdtemp(path.join(tmpdir(), 'contract-cli-'));
  const c = (await manualIntegration(sim.url, 'all')).credentials;
  creds = [
    '--consumer-key',
    c.consumerKey,
    '--consumer-secret',
    c.consumerSecret,
    '--access-token',
    c.token,
    '--access-token-secret',
    c.tokenSecret,
  ];
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run contract', () => {
  it('prints a table, writes a valid JUnit file and exits 0 when nothing failed', async () => {
    const junit = path.join(dir, 'ok.xml');
    const res = await runCli('contract', ['--store', sim.url, ...creds, '--junit', junit], {});
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^PASS {2}sign\.sha256/m);
    expect(res.stdout).toMatch(/19 checks against .* 0 failed, 1 warnings, 1 skipped\./);
    const xml = await readFile(junit, 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const schema = await readFile(path.resolve('test/fixtures/junit.xsd'), 'utf8');
    const checked = await validateXML({
      xml: { fileName: 'ok.xml', contents: xml },
      schema: { fileName: 'junit.xsd', contents: schema },
    });
    expect(checked.errors).toEqual([]);
    const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml).testsuites
      .testsuite;
    expect(suite.tests).toBe('19');
    expect(suite.testcase).toHaveLength(19);
    expect(suite.testcase.filter((c: Record<string, unknown>) => 'skipped' in c)).toHaveLength(1);
  });

  it('exits 1 and reports failures as JUnit failures and in JSON matching the published schema', async () => {
    await adminJson(sim.url, 'PUT', '/settings', { misbehave: { skip_nonce: true } });
    const junit = path.join(dir, 'fail.xml');
    const res = await runCli('contract', ['--store', sim.url, ...creds, '--json', '--junit', junit], {});
    await adminJson(sim.url, 'PUT', '/settings', { misbehave: { skip_nonce: false } });
    expect(res.code).toBe(1);
    const report = reportSchema.parse(JSON.parse(res.stdout));
    expect(report.checks.find((c) => c.id === 'security.nonce-reuse')?.status).toBe('fail');
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(
      /<failure message="INSECURE: the same signed request, replayed, got HTTP 200\." type="security.nonce-reuse">/,
    );
    const published = JSON.parse(await readFile(path.resolve('docs/contract-report.schema.json'), 'utf8'));
    expect(published).toEqual(reportJsonSchema());
  });

  it('refuses incomplete credentials with a clear message', async () => {
    const res = await runCli('contract', ['--store', sim.url, '--consumer-key', 'x'], {});
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /Give all four of --consumer-key, --consumer-secret, --access-token and --access-token-secret/,
    );
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('npm run contract -- --activation', () => {
  it('waits for Activate, reports each handshake step with timings, then checks with the new tokens', async () => {
    const port = await freePort();
    const data = path.join(dir, 'activation-data');
    const connector = `http://127.0.0.1:${port}`;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/contract.ts',
        '--store',
        sim.url,
        '--activation',
        '--activation-timeout',
        '60',
        '--json',
      ],
      {
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          PORT: String(port),
          DATA_DIR: data,
          DEMO_USER_EMAIL: DEMO_EMAIL,
          DEMO_USER_PASSWORD: 'contract-pass-1',
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (/Waiting up to 60 s/.test(stderr)) {
          clearInterval(t);
          resolve();
        }
      }, 50);
      void exited.then(() => reject(new Error(`contract exited early: ${stderr}`)));
    });

    const created = await adminJson<{ id: number }>(sim.url, 'POST', '/integrations', {
      name: 'Watched',
      endpoint_url: `${connector}/magento/callback`,
      identity_link_url: `${connector}/magento/identity`,
      all_resources: true,
    });
    const act = await adminJson<{ popup: { url: string; success_call_back: string } }>(
      sim.url,
      'POST',
      `/integrations/${created.body.id}/activate`,
    );
    // The admin's popup: log in on the connector, follow it back to the store.
    const agent = request.agent(connector);
    const popup = new URL(act.body.popup.url);
    const page = await agent.get(popup.pathname + popup.search);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    const login = await agent
      .post('/magento/identity')
      .type('form')
      .send({
        _csrf: csrf,
        oauth_consumer_key: popup.searchParams.get('oauth_consumer_key'),
        success_call_back: act.body.popup.success_call_back,
        email: DEMO_EMAIL,
        password: 'contract-pass-1',
      });
    let location = login.headers.location!;
    for (let i = 0; i < 20 && !location.startsWith(sim.url); i++) {
      const next = await agent.get(location);
      location = next.status === 303 ? next.headers.location! : location;
      if (next.status !== 303) await new Promise((r) => setTimeout(r, 100));
    }
    expect(location).toBe(act.body.popup.success_call_back);

    const code = await exited;
    const report = reportSchema.parse(JSON.parse(stdout));
    expect({ code, failed: report.checks.filter((c) => c.status === 'fail') }).toEqual({
      code: 0,
      failed: [],
    });
    const steps = report.checks.filter((c) => c.category === 'activation');
    expect(steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      'activation.callback:pass',
      'activation.request-token:pass',
      'activation.access-token:pass',
      'activation.identity-link:pass',
      'activation.success-callback:pass',
    ]);
    expect(steps[2]!.detail).toMatch(/^\d+ ms after the callback\.$/);
    expect(report.checks.find((c) => c.id === 'sign.sha256')?.status).toBe('pass');
  }, 60_000);
});
