import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { unzipSync, strFromU8 } from 'fflate';
import request from 'supertest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { DEMO_EMAIL, DEMO_PASSWORD, startTestConnector } from '../helpers/connector.js';
import { runCli } from '../helpers/cli.js';
import { adminJson } from '../helpers/http.js';

let sim: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;
let out: string;

/** `npm run module` as a user runs it, with the test connector's URL as PUBLIC_URL. */
const moduleCli = (args: string[]) => runCli('module', args, { PUBLIC_URL: t.connector.url });

interface Imported {
  id: number;
  name: string;
  action: string;
  dropped: string[];
  integration: { consumer_key: string; status_label: string; resources: string[]; setup_type: string };
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 3, customers: 1, orders: 1 });
  t = await startTestConnector();
  out = await mkdtemp(path.join(tmpdir(), 'modules-'));
});
afterAll(async () => {
  await t.close();
  await sim.close();
  await rm(out, { recursive: true, force: true });
});

describe('from npm run module to an active integration', () => {
  it('generates the module, the store imports it, Activate makes it active on the connector', async () => {
    const run = await moduleCli([
      '--vendor',
      'Acme',
      '--module',
      'Connector',
      '--out',
      out,
      '--zip',
      '--allow-http',
      '--resources',
      'Magento_Catalog::products',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /parents added because Magento grants a child only with its parents: Magento_Catalog::catalog, Magento_Catalog::catalog_inventory/,
    );
    expect(run.stdout).toMatch(/Warning: .*"Reset"/);
    const xml = await readFile(path.join(out, 'Acme/Connector/etc/integration.xml'), 'utf8');
    expect(xml).toContain(`<endpoint_url>${t.connector.url}/magento/callback</endpoint_url>`);
    const zip = unzipSync(new Uint8Array(await readFile(path.join(out, 'Acme_Connector.zip'))));
    expect(strFromU8(zip['etc/integration.xml']!)).toBe(xml);

    const imported = await adminJson<Imported[]>(sim.url, 'POST', '/integrations/import', {
      integration_xml: xml,
    });
    expect(imported.status).toBe(200);
    const [entry] = imported.body;
    expect(entry).toMatchObject({ name: 'Acme Connector', action: 'created', dropped: [] });
    expect(entry!.integration.setup_type).toBe('config');
    expect(entry!.integration.resources.sort()).toEqual(
      ['Magento_Catalog::catalog', 'Magento_Catalog::catalog_inventory', 'Magento_Catalog::products'].sort(),
    );

    const activation = await adminJson(sim.url, 'POST', `/integrations/${entry!.id}/activate`);
    expect(activation.status).toBe(200);
    const record = await t.connector.activation.settled(entry!.integration.consumer_key);
    expect(record?.status).toBe('active');
    const shown = await adminJson<{ status_label: string }>(sim.url, 'GET', `/integrations/${entry!.id}`);
    expect(shown.body.status_label).toBe('Active');
  });

  it('re-importing: unchanged stays, a changed declaration is re-created with new credentials (Reset)', async () => {
    const xml = await readFile(path.join(out, 'Acme/Connector/etc/integration.xml'), 'utf8');
    const again = await adminJson<Imported[]>(sim.url, 'POST', '/integrations/import', {
      integration_xml: xml,
    });
    expect(again.body[0]!.action).toBe('unchanged');
    const changed = xml.replace(
      '<resource name="Magento_Catalog::products"/>',
      '<resource name="Magento_Catalog::products"/>\n<resource name="Magento_Nope::x"/>\n<resource name="Magento_Backend::stores"/>',
    );
    const recreated = await adminJson<Imported[]>(sim.url, 'POST', '/integrations/import', {
      integration_xml: changed,
    });
    expect(recreated.body[0]).toMatchObject({ action: 'recreated', dropped: ['Magento_Nope::x'] });
    expect(recreated.body[0]!.integration.status_label).toMatch(/^Reset/);
    expect(recreated.body[0]!.integration.consumer_key).not.toBe(again.body[0]!.integration.consumer_key);
  });

  it('imports the legacy pair: resources as listed, updated in place on change', async () => {
    const run = await moduleCli([
      '--vendor',
      'Acme',
      '--module',
      'Legacy',
      '--legacy',
      '--out',
      out,
      '--allow-http',
    ]);
    expect(run.code).toBe(0);
    const dir = path.join(out, 'Acme/Legacy/etc/integration');
    const [config, api] = await Promise.all([
      readFile(path.join(dir, 'config.xml'), 'utf8'),
      readFile(path.join(dir, 'api.xml'), 'utf8'),
    ]);
    const first = await adminJson<Imported[]>(sim.url, 'POST', '/integrations/import', {
      config_xml: config,
      api_xml: api,
    });
    expect(first.body[0]).toMatchObject({ name: 'Acme Legacy', action: 'created' });
    const updated = await adminJson<Imported[]>(sim.url, 'POST', '/integrations/import', {
      config_xml: config.replace(/<email>[^<]+<\/email>/, '<email>ops@acme.example</email>'),
      api_xml: api,
    });
    expect(updated.body[0]!.action).toBe('updated');
    expect(updated.body[0]!.integration.consumer_key).toBe(first.body[0]!.integration.consumer_key);
    // A name mismatch between the two files leaves the integration without resources.
    const mismatch = await adminJson<Imported[]>(sim.url, 'POST', '/integrations/import', {
      config_xml: config.replace('name="Acme Legacy"', 'name="Acme Other"'),
      api_xml: api,
    });
    expect(mismatch.body[0]!.integration.resources).toEqual([]);
  });

  it('writes nothing on bad input, and never overwrites a module without --force', async () => {
    const before = await readdir(out);
    const bad = await moduleCli([
      '--vendor',
      'Acme',
      '--module',
      'Bad',
      '--out',
      out,
      '--allow-http',
      '--resources',
      'Magento_Sales::order',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^Nothing written\. Unknown ACL resource "Magento_Sales::order" \(did you mean/,
    );
    const http = await moduleCli(['--vendor', 'Acme', '--module', 'Http', '--out', out]);
    expect(http.code).toBe(1);
    expect(http.stderr).toMatch(/plain http/);
    expect(await readdir(out)).toEqual(before);
    const again = await moduleCli([
      '--vendor',
      'Acme',
      '--module',
      'Connector',
      '--out',
      out,
      '--allow-http',
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists and is not empty; choose another --out or pass --force/);
  });

  it('refuses malformed XML at the store with a 400', async () => {
    const res = await adminJson<{ error: string }>(sim.url, 'POST', '/integrations/import', {
      integration_xml: '<config><integration',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/not well-formed XML/);
  });
});

describe('the module page on the dashboard', () => {
  it('lets a logged-in user pick resources and download the zip', async () => {
    const agent = request.agent(t.connector.url);
    expect((await agent.get('/module')).status).toBe(303);
    const login = await agent.get('/login');
    const csrf = () => /name="_csrf" value="([^"]+)"/.exec(login.text)?.[1] ?? '';
    await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrf(), email: DEMO_EMAIL, password: DEMO_PASSWORD });
    const page = await agent.get('/module');
    expect(page.status).toBe(200);
    expect(page.text).toContain('value="Magento_Sales::actions_view"');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    const bad = await agent.post('/module').type('form').send({
      _csrf: token,
      vendor: 'acme',
      module: 'X',
      email: 'a@b.example',
      resources: 'Magento_Backend::stores',
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Vendor name &#34;acme&#34; is not valid');
    const res = await agent
      .post('/module')
      .type('form')
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .send(
        `_csrf=${encodeURIComponent(token ?? '')}&vendor=Shop&module=Sync&email=ops%40shop.example&resources=Magento_Backend%3A%3Astores&resources=Magento_Sales%3A%3Aactions_view`,
      );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toContain('Shop_Sync.zip');
    const files = unzipSync(new Uint8Array(res.body as Buffer));
    const xml = strFromU8(files['etc/integration.xml']!);
    expect(xml).toContain('<resource name="Magento_Sales::actions_view"/>');
    expect(xml).toContain('<resource name="Magento_Sales::sales"/>');
    expect(xml).toContain(`${t.connector.url}/magento/identity`);
  });
});
