import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { XMLParser } from 'fast-xml-parser';
import { unzipSync, strFromU8 } from 'fflate';
import { ACL_PARENTS } from '../../src/acl/magento-acl.js';
import {
  generateModule,
  ModuleInputError,
  validateModule,
  type ModuleOptions,
} from '../../src/module/generate.js';
import { validateAgainst } from '../../src/module/validate-xml.js';
import { zipModule } from '../../src/module/zip.js';

const base: ModuleOptions = {
  vendor: 'Acme',
  module: 'Connector',
  email: 'dev@acme.example',
  resources: ['Magento_Sales::actions_view', 'Magento_Catalog::products'],
  endpointUrl: 'https://connector.example.com/magento/callback',
  identityLinkUrl: 'https://connector.example.com/magento/identity',
};

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (n) => ['module', 'resource', 'integration'].includes(n),
});
const file = (m: ReturnType<typeof generateModule>, p: string) =>
  m.files.find((f) => f.path === p)?.contents ?? '';

// CI installs php-cli and sets REQUIRE_PHP, so there the PHP files are always linted.
const php = spawnSync('php', ['-v'], { stdio: 'ignore' }).status === 0;
if (!php && process.env.REQUIRE_PHP) throw new Error('php is required (apt-get install php-cli)');

async function phpLint(contents: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'php-lint-'));
  try {
    await writeFile(path.join(dir, 'file.php'), contents);
    const out = spawnSync('php', ['-l', path.join(dir, 'file.php')], { encoding: 'utf8' });
    return `${out.status} ${out.stdout}${out.stderr}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const inputs: [string, ModuleOptions][] = [
  ['the current form', base],
  ['the legacy form', { ...base, legacy: true }],
  [
    'a custom name and every sales action',
    {
      ...base,
      vendor: 'Shop2Go',
      module: 'Erp9',
      name: 'ERP & "Sync" <prod>',
      resources: ['Magento_Sales::actions'],
    },
  ],
  [
    'the legacy form with one top-level resource',
    { ...base, vendor: 'Zz', module: 'Yy', legacy: true, resources: ['Magento_Backend::dashboard'] },
  ],
];

describe('generated modules', () => {
  it.each(inputs)(
    '%s: valid against the Magento_Integration schemas, with a sound module skeleton',
    async (_label, options) => {
      const m = generateModule(options);
      await expect(validateModule(m)).resolves.toBeUndefined();
      const moduleName = `${options.vendor}_${options.module}`;

      const moduleXml = parser.parse(file(m, 'etc/module.xml'));
      expect(moduleXml.config.module[0]['@name']).toBe(moduleName);
      expect(
        moduleXml.config.module[0].sequence.module.map((x: { '@name': string }) => x['@name']),
      ).toContain('Magento_Integration');

      const composer = JSON.parse(file(m, 'composer.json'));
      expect(composer.type).toBe('magento2-module');
      expect(composer.autoload.files).toEqual(['registration.php']);
      expect(composer.autoload['psr-4']).toEqual({ [`${options.vendor}\\${options.module}\\`]: '' });
      expect(file(m, 'registration.php')).toContain(
        `ComponentRegistrar::register(ComponentRegistrar::MODULE, '${moduleName}', __DIR__);`,
      );

      // Every declared resource comes with all of its parents.
      for (const id of m.resources)
        for (const parent of ACL_PARENTS.get(id) ?? []) expect(m.resources).toContain(parent);
      for (const id of options.resources) expect(m.resources).toContain(id);

      const declared = options.legacy ? file(m, 'etc/integration/api.xml') : file(m, 'etc/integration.xml');
      const names = [...declared.matchAll(/<resource name="([^"]+)"\/>/g)].map((x) => x[1]);
      expect(names.sort()).toEqual([...m.resources].sort());
      if (options.legacy) {
        expect(file(m, 'etc/integration.xml')).toBe('');
        expect(file(m, 'Setup/Patch/Data/CreateIntegration.php')).toContain('implements DataPatchInterface');
        // The patch names exactly the integration config.xml declares.
        const configName = parser.parse(file(m, 'etc/integration/config.xml')).integrations.integration[0][
          '@name'
        ];
        expect(file(m, 'Setup/Patch/Data/CreateIntegration.php')).toContain(
          `processIntegrationConfig(['${configName.replace(/'/g, "\\'")}'])`,
        );
      }
      if (php) {
        for (const f of m.files.filter((x) => x.path.endsWith('.php')))
          expect(await phpLint(f.contents)).toMatch(/^0 No syntax errors/);
      }
    },
  );

  it('lists the parents it added', () => {
    const m = generateModule({ ...base, resources: ['Magento_Catalog::products'] });
    expect(m.addedParents).toEqual(['Magento_Catalog::catalog', 'Magento_Catalog::catalog_inventory']);
  });

  it('zips exactly the module files, for app/code/<Vendor>/<Module>', () => {
    const m = generateModule(base);
    const entries = unzipSync(zipModule(m));
    expect(Object.keys(entries).sort()).toEqual(m.files.map((f) => f.path).sort());
    expect(strFromU8(entries['etc/integration.xml']!)).toBe(file(m, 'etc/integration.xml'));
  });
});

describe('the schemas can refuse', () => {
  it('refuses a bad email, a short name, legacy elements out of order and a bad resource id', async () => {
    const m = generateModule(base);
    const xml = file(m, 'etc/integration.xml');
    expect(
      await validateAgainst('integration', 'x.xml', xml.replace('dev@acme.example', 'nobody')),
    ).not.toEqual([]);
    expect(
      await validateAgainst('integration', 'x.xml', xml.replace('name="Acme Connector"', 'name="A"')),
    ).not.toEqual([]);
    expect(await validateAgainst('integration', 'x.xml', xml.replace(/<email>.*<\/email>/, ''))).not.toEqual(
      [],
    );
    expect(await validateAgainst('integration_file', 'x.xml', xml.replace(/<email>.*<\/email>/, ''))).toEqual(
      [],
    );
    expect(
      await validateAgainst('integration', 'x.xml', xml.replace('Magento_Catalog::products', 'products')),
    ).not.toEqual([]);
    const legacy = generateModule({ ...base, legacy: true });
    const config = file(legacy, 'etc/integration/config.xml');
    const swapped = config.replace(/(<email>.*<\/email>)\s*(<endpoint_url>.*<\/endpoint_url>)/, '$2$1');
    expect(swapped).not.toBe(config);
    expect(await validateAgainst('config', 'config.xml', swapped)).not.toEqual([]);
  });
});

describe('bad input fails with a clear message', () => {
  const cases: [string, Partial<ModuleOptions>, RegExp][] = [
    [
      'an unknown resource, with suggestions',
      { resources: ['Magento_Catalog::product'] },
      /Unknown ACL resource "Magento_Catalog::product" \(did you mean Magento_Catalog::products/,
    ],
    [
      'a lower-case vendor',
      { vendor: 'acme' },
      /Vendor name "acme" is not valid: it must start with an upper-case letter/,
    ],
    ['a module name with a dash', { module: 'My-Module' }, /Module name "My-Module" is not valid/],
    ['the reserved vendor', { vendor: 'Magento' }, /reserved/],
    [
      'a plain-http endpoint',
      { endpointUrl: 'http://connector.example.com/magento/callback' },
      /plain http: the store would POST the consumer secret/,
    ],
    ['a bad email', { email: 'dev@localhost' }, /Email "dev@localhost" is not valid/],
    ['no resources', { resources: [] }, /at least one API resource/],
  ];
  it.each(cases)('%s', (_label, change, message) => {
    expect(() => generateModule({ ...base, ...change })).toThrow(ModuleInputError);
    expect(() => generateModule({ ...base, ...change })).toThrow(message);
  });

  it('accepts plain http only when allowed, with a warning', () => {
    const m = generateModule({
      ...base,
      endpointUrl: 'http://127.0.0.1:3000/magento/callback',
      allowHttp: true,
    });
    expect(m.warnings.join(' ')).toMatch(/plain http/);
    expect(m.warnings.join(' ')).toMatch(/NEW consumer key and secret and status "Reset"/);
  });
});
