import { Command } from 'commander';
import { DEFAULT_RESOURCES, generateModule, ModuleInputError, validateModule } from '../module/generate.js';
import { writeModule } from '../module/write.js';
import { configOrExit } from './lifecycle.js';
import { usageErrorsExit2 } from './usage.js';

const config = configOrExit();
const publicUrl = (config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/+$/, '');

const program = new Command()
  .name('npm run module --')
  .description(
    "Generate the Magento module that declares this connector's integration (endpoint and identity link from PUBLIC_URL).",
  )
  .requiredOption('--vendor <Vendor>', 'vendor part of the module name, e.g. Acme')
  .requiredOption('--module <Module>', 'module part of the module name, e.g. Connector')
  .option('--name <name>', 'integration name shown in the store admin (default "<Vendor> <Module>")')
  .option('--email <email>', 'contact email of the integration', config.DEMO_USER_EMAIL)
  .option(
    '--resources <ids>',
    'comma-separated ACL resource ids; parents are added',
    DEFAULT_RESOURCES.join(','),
  )
  .option('--out <dir>', 'where to write <Vendor>/<Module>', 'data/modules')
  .option('--zip', 'also write <Vendor>_<Module>.zip, to unzip into app/code/<Vendor>/<Module>', false)
  .option('--legacy', 'the deprecated etc/integration/config.xml + api.xml and a data patch', false)
  .option('--allow-http', 'accept a plain-http PUBLIC_URL (local test stores only)', false)
  .option('--force', 'overwrite an existing module folder', false)
  .addHelpText(
    'after',
    `
The endpoint URL is ${publicUrl}/magento/callback and the identity link URL ${publicUrl}/magento/identity
(set PUBLIC_URL to change them). Example:
  npm run module -- --vendor Acme --module Connector --resources Magento_Sales::actions_view --zip`,
  )
  .showHelpAfterError();
usageErrorsExit2(program).parse();
const opts = program.opts<{
  vendor: string;
  module: string;
  name?: string;
  email: string;
  resources: string;
  out: string;
  zip: boolean;
  legacy: boolean;
  allowHttp: boolean;
  force: boolean;
}>();

try {
  const generated = generateModule({
    vendor: opts.vendor,
    module: opts.module,
    name: opts.name,
    email: opts.email,
    resources: opts.resources
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
    endpointUrl: `${publicUrl}/magento/callback`,
    identityLinkUrl: `${publicUrl}/magento/identity`,
    legacy: opts.legacy,
    allowHttp: opts.allowHttp,
  });
  await validateModule(generated);
  const written = await writeModule(generated, { out: opts.out, zip: opts.zip, force: opts.force });
  const [vendor, module] = generated.moduleName.split('_');
  console.log(
    `Module ${generated.moduleName} (integration "${generated.integrationName}") written to ${written.dir}/`,
  );
  for (const f of generated.files) console.log(`  ${f.path}`);
  if (written.zip) console.log(`Zip: ${written.zip}  (unzip it into app/code/${vendor}/${module})`);
  console.log(`Resources (${generated.resources.length}): ${generated.resources.join(', ')}`);
  if (generated.addedParents.length) {
    console.log(
      `  parents added because Magento grants a child only with its parents: ${generated.addedParents.join(', ')}`,
    );
  }
  console.log('XML checked against the Magento_Integration schema rules.');
  for (const w of generated.warnings) console.log(`Warning: ${w}`);
} catch (error) {
  console.error(
    error instanceof ModuleInputError
      ? `Nothing written. ${error.message}`
      : `Failed: ${(error as Error).message}`,
  );
  process.exit(1);
}
