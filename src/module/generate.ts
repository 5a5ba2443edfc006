import { AppError } from '../errors.js';
import { isKnownResource, nearestResources, withParents } from '../acl/magento-acl.js';
import { validateAgainst, type SchemaName } from './validate-xml.js';

export interface ModuleOptions {
  vendor: string;
  module: string;
  /** The integration's name in Magento (default "<Vendor> <Module>"). */
  name?: string;
  email: string;
  resources: string[];
  endpointUrl: string;
  identityLinkUrl: string;
  /** The deprecated etc/integration/config.xml + api.xml pair and a data patch. */
  legacy?: boolean;
  allowHttp?: boolean;
}

export interface GeneratedFile {
  path: string;
  contents: string;
}

export interface GeneratedModule {
  moduleName: string;
  integrationName: string;
  files: GeneratedFile[];
  /** The resources as declared, parents included. */
  resources: string[];
  /** Parents that were not asked for but had to be declared. */
  addedParents: string[];
  warnings: string[];
}

/** Bad input: nothing is generated and nothing written. */
export class ModuleInputError extends AppError {
  override name = 'ModuleInputError';
  declare readonly code: 'module_input_invalid';
  constructor(message: string, options?: ErrorOptions) {
    super('module_input_invalid', message, options);
  }
}

/** What the connector itself calls on a store: the default grant. */
export const DEFAULT_RESOURCES = [
  'Magento_Backend::stores',
  'Magento_Catalog::products',
  'Magento_Sales::actions_view',
  'Magento_Customer::customer',
];

const NAME_PART = /^[A-Z][A-Za-z0-9]*$/;
const EMAIL = /^[^@]+@[^.]+\..+$/;

export const RESET_WARNING =
  'Changing this integration later (name, email, URLs or resources) makes Magento delete and re-create it ' +
  'on the next setup:upgrade with a NEW consumer key and secret and status "Reset": the store admin must ' +
  'click Activate again. The connector then receives a callback with the new key for a store it knows, ' +
  'treats it as a Reset, keeps the old credentials in the history and switches to the new set.';

/** Magento's naming rules for the two halves of `Vendor_Module`. */
export function checkModuleNames(vendor: string, module: string): void {
  for (const [label, value] of [
    ['Vendor', vendor],
    ['Module', module],
  ] as const) {
    if (!NAME_PART.test(value)) {
      throw new ModuleInputError(
        `${label} name "${value}" is not valid: it must start with an upper-case letter and contain only letters and digits (e.g. Acme, Connector).`,
      );
    }
  }
  if (vendor === 'Magento')
    throw new ModuleInputError('The vendor name "Magento" is reserved for Magento\'s own modules.');
}

/** Validates the resource ids and adds every missing parent, as Magento only grants a child with its parents. */
export function resolveResources(requested: string[]): { resources: string[]; addedParents: string[] } {
  if (requested.length === 0) throw new ModuleInputError('Choose at least one API resource (--resources).');
  const unknown = requested.filter((id) => !isKnownResource(id));
  if (unknown.length) {
    const lines = unknown.map((id) => `"${id}" (did you mean ${nearestResources(id).join(', ')}?)`);
    throw new ModuleInputError(`Unknown ACL resource ${lines.join('; ')}.`);
  }
  const resources = withParents(requested);
  return { resources, addedParents: resources.filter((id) => !requested.includes(id)) };
}

function checkUrl(label: string, value: string, allowHttp: boolean, warnings: string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ModuleInputError(
      `${label} "${value}" is not a valid URL; set PUBLIC_URL to where the store reaches the connector.`,
    );
  }
  if (url.protocol === 'https:') return;
  if (url.protocol !== 'http:')
    throw new ModuleInputError(`${label} must be an https URL, not ${url.protocol}.`);
  if (!allowHttp) {
    throw new ModuleInputError(
      `${label} ${value} is plain http: the store would POST the consumer secret and verifier in clear. ` +
        'Set PUBLIC_URL to an https address, or pass --allow-http for a local test store.',
    );
  }
  warnings.push(
    `${label} is plain http (${value}): acceptable for a local test store only; the credentials travel in clear.`,
  );
}

const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Builds the module tree in memory; throws ModuleInputError on bad input. */
export function generateModule(options: ModuleOptions): GeneratedModule {
  const { vendor, module } = options;
  checkModuleNames(vendor, module);
  const integrationName = (options.name ?? `${vendor} ${module}`).trim();
  if (integrationName.length < 2)
    throw new ModuleInputError('The integration name must have at least 2 characters.');
  if (!EMAIL.test(options.email)) {
    throw new ModuleInputError(
      `Email "${options.email}" is not valid for Magento (it needs a name, @ and a dotted domain).`,
    );
  }
  const warnings: string[] = [];
  checkUrl('Endpoint URL', options.endpointUrl, options.allowHttp ?? false, warnings);
  checkUrl('Identity link URL', options.identityLinkUrl, options.allowHttp ?? false, warnings);
  const { resources, addedParents } = resolveResources(options.resources);
  warnings.push(RESET_WARNING);

  const moduleName = `${vendor}_${module}`;
  const resourceLines = resources.map((r) => `            <resource name="${xml(r)}"/>`).join('\n');
  const files: GeneratedFile[] = [
    { path: 'registration.php', contents: registrationPhp(moduleName) },
    { path: 'composer.json', contents: composerJson(vendor, module, integrationName) },
    { path: 'etc/module.xml', contents: moduleXml(moduleName) },
    { path: 'README.md', contents: moduleReadme(moduleName, integrationName, options.legacy ?? false) },
  ];
  if (options.legacy) {
    files.push(
      {
        path: 'etc/integration/config.xml',
        contents: `<?xml version="1.0"?>
<integrations xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="urn:magento:module:Magento_Integration:etc/integration/config.xsd">
    <integration name="${xml(integrationName)}">
        <email>${xml(options.email)}</email>
        <endpoint_url>${xml(options.endpointUrl)}</endpoint_url>
        <identity_link_url>${xml(options.identityLinkUrl)}</identity_link_url>
    </integration>
</integrations>
`,
      },
      {
        path: 'etc/integration/api.xml',
        contents: `<?xml version="1.0"?>
<integrations xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="urn:magento:module:Magento_Integration:etc/integration/api.xsd">
    <integration name="${xml(integrationName)}">
        <resources>
${resourceLines.replace(/^ {4}/gm, '')}
        </resources>
    </integration>
</integrations>
`,
      },
      {
        path: 'Setup/Patch/Data/CreateIntegration.php',
        contents: dataPatchPhp(vendor, module, integrationName),
      },
    );
  } else {
    files.push({
      path: 'etc/integration.xml',
      contents: `<?xml version="1.0"?>
<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="urn:magento:module:Magento_Integration:etc/integration/integration.xsd">
    <integration name="${xml(integrationName)}">
        <email>${xml(options.email)}</email>
        <endpoint_url>${xml(options.endpointUrl)}</endpoint_url>
        <identity_link_url>${xml(options.identityLinkUrl)}</identity_link_url>
        <resources>
${resourceLines}
        </resources>
    </integration>
</config>
`,
    });
  }
  return { moduleName, integrationName, files, resources, addedParents, warnings };
}

const SCHEMAS: Record<string, SchemaName[]> = {
  'etc/integration.xml': ['integration', 'integration_file'],
  'etc/integration/config.xml': ['config'],
  'etc/integration/api.xml': ['api'],
};

/** Checks every integration XML of the module against Magento_Integration's schema rules. */
export async function validateModule(generated: GeneratedModule): Promise<void> {
  for (const file of generated.files) {
    for (const schema of SCHEMAS[file.path] ?? []) {
      const errors = await validateAgainst(schema, file.path, file.contents);
      if (errors.length)
        throw new ModuleInputError(`${file.path} does not match ${schema}.xsd: ${errors.join(' ')}`);
    }
  }
}

function registrationPhp(moduleName: string): string {
  return `<?php
declare(strict_types=1);

use Magento\\Framework\\Component\\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, '${moduleName}', __DIR__);
`;
}

function composerJson(vendor: string, module: string, integrationName: string): string {
  const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  return `${JSON.stringify(
    {
      name: `${kebab(vendor)}/module-${kebab(module)}`,
      description: `Declares the "${integrationName}" integration (endpoint and identity link of the connector).`,
      type: 'magento2-module',
      license: 'proprietary',
      require: { php: '>=8.1', 'magento/framework': '*', 'magento/module-integration': '*' },
      autoload: { files: ['registration.php'], 'psr-4': { [`${vendor}\\${module}\\`]: '' } },
    },
    null,
    4,
  )}\n`;
}

function moduleXml(moduleName: string): string {
  return `<?xml version="1.0"?>
<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="urn:magento:framework:Module/etc/module.xsd">
    <module name="${moduleName}">
        <sequence>
            <module name="Magento_Integration"/>
        </sequence>
    </module>
</config>
`;
}

function dataPatchPhp(vendor: string, module: string, integrationName: string): string {
  return `<?php
declare(strict_types=1);

namespace ${vendor}\\${module}\\Setup\\Patch\\Data;

use Magento\\Framework\\Setup\\Patch\\DataPatchInterface;
use Magento\\Integration\\Model\\ConfigBasedIntegrationManager;

/**
 * Creates the integration declared in etc/integration/config.xml and api.xml (the legacy form).
 * The name below must be exactly the integration name in config.xml.
 */
class CreateIntegration implements DataPatchInterface
{
    public function __construct(private readonly ConfigBasedIntegrationManager $integrationManager)
    {
    }

    public function apply(): self
    {
        $this->integrationManager->processIntegrationConfig([${phpString(integrationName)}]);
        return $this;
    }

    public static function getDependencies(): array
    {
        return [];
    }

    public function getAliases(): array
    {
        return [];
    }
}
`;
}

function phpString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function moduleReadme(moduleName: string, integrationName: string, legacy: boolean): string {
  const [vendor, module] = moduleName.split('_');
  return `# ${moduleName}

Declares the Magento integration "${integrationName}", pointing at the connector's callback
(endpoint URL) and identity-link login page.

## Install

Copy this folder to \`app/code/${vendor}/${module}\`, then:

    bin/magento module:enable ${moduleName}
    bin/magento setup:upgrade

The integration appears under System > Extensions > Integrations. Click **Activate**, then
**Allow**, and log in to the connector in the popup.

${
  legacy
    ? 'This module uses the deprecated `etc/integration/config.xml` + `api.xml` pair and a data patch that calls `ConfigBasedIntegrationManager::processIntegrationConfig`; current Magento reads `etc/integration.xml` on every `setup:upgrade` and needs no patch.'
    : 'Magento reads `etc/integration.xml` on every `setup:upgrade`; no setup script is needed.'
}

## Careful: changing it re-creates the integration

${RESET_WARNING}
`;
}
