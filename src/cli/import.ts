import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { ActivationService } from '../activation/activation-service.js';
import { clientForIntegration } from '../activation/store-client.js';
import { configOrExit } from './lifecycle.js';
import { pickIntegration } from './pick-integration.js';
import { createLogger } from '../config/logger.js';
import { MagentoAuthError } from '../magento/errors.js';
import { exchangeTokens } from '../magento/token-exchange.js';
import { rfc3986 } from '../oauth1/index.js';
import { openCliStorage } from './open-storage.js';
import { csvObjects, readCsvRows } from '../sync/import-export/csv.js';
import {
  IMPORT_ENTITIES,
  PRODUCT_IMPORT_COLUMNS,
  PRODUCT_READ_ONLY_COLUMNS,
  formatFailure,
  importRows,
  rowsFromJson,
  type ImportEntity,
  type ImportReport,
} from '../sync/import-export/import.js';

const program = new Command()
  .name('npm run import --')
  .description(
    'Update products in a linked store from a CSV or JSON file: every row is checked first, then each valid row is one signed PUT V1/products/{sku}.',
  )
  .requiredOption('--entity <name>', IMPORT_ENTITIES.join(', '), (v: string) => {
    if (!(IMPORT_ENTITIES as readonly string[]).includes(v)) {
      throw new InvalidArgumentError(
        `only ${IMPORT_ENTITIES.join(', ')} can be imported; customers and orders are export-only.`,
      );
    }
    return v as ImportEntity;
  })
  .requiredOption('--file <file>', 'a .csv file with a header row, or a .json array of objects')
  .option('--dry-run', 'check every row and report, without calling the store')
  .option('--store <keyOrUrl>', 'consumer key or store URL (needed when several stores are linked)')
  .addHelpText(
    'after',
    `
Columns: ${PRODUCT_IMPORT_COLUMNS.join(', ')} (sku required; an empty cell leaves the value as it is).
${PRODUCT_READ_ONLY_COLUMNS.join(' and ')} are accepted, so an export can be imported back, but never sent.
Rows are numbered from 1, after the header.

Examples:
  npm run import -- --entity products --file products.csv --dry-run
  npm run import -- --store http://127.0.0.1:3100 --entity products --file products.csv`,
  )
  .showHelpAfterError();

program.parse();
const opts = program.opts<{ entity: ImportEntity; file: string; dryRun?: boolean; store?: string }>();
const dryRun = opts.dryRun === true;

const config = configOrExit();
const logger = createLogger({ level: 'warn', name: 'import' });
const storage = await openCliStorage(config);
let exitCode = 0;
const bar =
  process.stderr.isTTY && !dryRun
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'products [{bar}] {value}/{total}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
try {
  const record = pickIntegration(await storage.integrations.list(), opts.store);
  const client = dryRun
    ? undefined
    : clientForIntegration(record, {
        activation: new ActivationService({
          integrations: storage.integrations,
          notices: storage.notices,
          exchange: exchangeTokens,
          signatureMethod: config.MAGENTO_SIGNATURE_METHOD,
          logger,
        }),
        integrations: storage.integrations,
      });
  let barStarted = false;
  const report = await importRows({
    rows: await readRows(opts.file),
    entity: opts.entity,
    dryRun,
    apply: async (sku, patch) => {
      // Magento takes the sku from the body as well as the path; sending both keeps them equal.
      await client?.put(`V1/products/${rfc3986(sku)}`, { product: { sku, ...patch } });
    },
    // A dead token or a missing ACL grant fails every row the same way; a bad signature may be this URL only.
    isFatal: (error) => error instanceof MagentoAuthError && !error.isSignatureInvalid,
    onProgress: (done, total) => {
      if (!barStarted) bar?.start(total, 0);
      barStarted = true;
      bar?.update(done);
    },
  });
  bar?.stop();
  printReport(report, record.storeOrigin);
  if (report.failed.length > 0) exitCode = 1;
} catch (error) {
  bar?.stop();
  console.error(error instanceof Error ? error.message : String(error));
  exitCode = 1;
} finally {
  await storage.close();
}
process.stdout.write('', () => process.exit(exitCode));

async function readRows(file: string) {
  const lower = file.toLowerCase();
  if (lower.endsWith('.json')) {
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`Cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, {
        cause: error,
      });
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      throw new Error(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    return rowsFromJson(parsed);
  }
  if (!lower.endsWith('.csv')) throw new Error(`--file must end in .csv or .json (got ${file}).`);
  const stream = createReadStream(file);
  // Surface a missing file now, rather than as the first row's error.
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(`Cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, {
          cause: error,
        }),
      ),
    );
  });
  return csvObjects(readCsvRows(stream));
}

function printReport(report: ImportReport, origin: string): void {
  for (const failure of report.failed) for (const line of formatFailure(failure)) console.log(line);
  const invalid = report.total - report.valid;
  const refused = report.failed.length - invalid;
  const parts = [`${report.total} rows`, `${report.valid} valid`];
  if (invalid > 0) parts.push(`${invalid} invalid`);
  if (report.skipped > 0) parts.push(`${report.skipped} with nothing to change`);
  if (report.dryRun) {
    console.log(`Dry run, nothing sent to ${origin}: ${parts.join(', ')}.`);
    return;
  }
  parts.push(`${report.applied} applied`);
  if (refused > 0) parts.push(`${refused} failed at the store`);
  console.log(`Import into ${origin}: ${parts.join(', ')}.`);
}
