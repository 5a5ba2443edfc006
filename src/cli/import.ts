import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { ActivationService } from '../activation/activation-service.js';
import { clientForIntegration } from '../activation/store-client.js';
import { configOrExit } from './lifecycle.js';
import { pickIntegration } from './pick-integration.js';
import { createLogger } from '../config/logger.js';
import { MagentoApiError, MagentoAuthError, fillPlaceholders } from '../magento/errors.js';
import { exchangeTokens } from '../magento/token-exchange.js';
import { openStoreStorage } from './open-storage.js';
import { csvObjects, readCsvRows } from '../sync/import-export/csv.js';
import {
  formatProblem,
  importRows,
  rowsFromJson,
  summarise,
  type ImportRequest,
} from '../sync/import-export/import.js';
import {
  IMPORT_DEFINITIONS,
  IMPORT_ENTITIES,
  isImportEntity,
  type ImportEntity,
} from '../sync/import-export/import-entities.js';
import { usageErrorsExit2 } from './usage.js';

/** `a, b or c` */
const listed = (items: readonly string[], last: string) =>
  items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} ${last} ${items.at(-1)}`;

const program = new Command()
  .name('npm run import --')
  .description(
    'Push edits from a CSV or JSON file to a linked store. Every row is checked and compared with the ' +
      'local records (what the store last sent) before anything is sent; only rows that differ are sent, ' +
      'one signed request each, and the local records then take the store’s answer.',
  )
  .argument('[file]', 'a .csv file with a header row, or a .json array of objects')
  .option(
    '--entity <name>',
    `${listed(IMPORT_ENTITIES, 'or')} (default ${IMPORT_ENTITIES[0]})`,
    (v: string) => {
      if (!isImportEntity(v)) {
        throw new InvalidArgumentError(
          `only ${listed(IMPORT_ENTITIES, 'and')} can be imported; ${v} is export-only.`,
        );
      }
      return v;
    },
  )
  .option('--file <file>', 'the same as the FILE argument')
  .option('--dry-run', 'check and compare every row and report, without calling the store')
  .option('--strict', 'send nothing when any row is invalid (by default the valid rows are still sent)')
  .option('--store <keyOrUrl>', 'consumer key or store URL (needed when several stores are linked)')
  .addHelpText(
    'after',
    `
Columns (an export of the same entity imports back as it is):
  ${IMPORT_ENTITIES.map((e) => IMPORT_DEFINITIONS[e].help).join('\n  ')}

A row whose updated_at is older than the store's record (changed in the store after the export) is
not sent, since its other cells would undo that change: export again, or empty the cell.
Rows are numbered from 1, after the header. The exit code is 1 when a row is invalid or failed.

Examples:
  npm run import -- products.csv --dry-run
  npm run import -- --entity customers customers.csv
  npm run import -- --store http://127.0.0.1:3100 --entity products --file products.json --strict`,
  )
  .showHelpAfterError();

usageErrorsExit2(program).parse();
const opts = program.opts<{
  entity?: ImportEntity;
  file?: string;
  dryRun?: boolean;
  strict?: boolean;
  store?: string;
}>();
const entity: ImportEntity = opts.entity ?? 'products';
const definition = IMPORT_DEFINITIONS[entity];
const file = fileArgument(program.args[0], opts.file);
const dryRun = opts.dryRun === true;

const config = configOrExit();
const logger = createLogger({ level: 'warn', name: 'import' });
const storage = await openStoreStorage(config);
let exitCode = 0;
const progress = sendingProgress();
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
  const report = await importRows({
    rows: await readRows(file),
    definition,
    records: storage.records,
    store: record.consumerKey,
    dryRun,
    strict: opts.strict === true,
    send: (request: ImportRequest) => {
      if (!client) throw new Error('A dry run sends nothing.');
      if (request.method === 'GET') return client.get(request.path);
      return request.method === 'PUT'
        ? client.put(request.path, request.body)
        : client.post(request.path, request.body);
    },
    // A dead token or a missing ACL grant fails every row the same way; a bad signature may be this URL only.
    isFatal: (error) => error instanceof MagentoAuthError && !error.isSignatureInvalid,
    describeError,
    onProgress: progress.update,
  });
  progress.stop();
  for (const problem of report.problems) for (const line of formatProblem(problem)) console.log(line);
  for (const warning of report.warnings) console.log(`warning: ${warning}`);
  console.log(summarise(report, record.storeOrigin));
  if (report.invalid + report.failed + report.held > 0) exitCode = 1;
} catch (error) {
  progress.stop();
  console.error(error instanceof Error ? error.message : String(error));
  exitCode = 1;
} finally {
  await storage.close();
}
process.stdout.write('', () => process.exit(exitCode));

function fileArgument(positional: string | undefined, option: string | undefined): string {
  if (positional !== undefined && option !== undefined && positional !== option) {
    program.error('error: give the file once, either as FILE or with --file.');
  }
  const chosen = positional ?? option;
  if (chosen === undefined) return program.error('error: which file? Give it as FILE (or --file FILE).');
  return chosen;
}

/** The store's message, then each error of an input exception that listed several. */
function describeError(error: unknown): string[] {
  if (error instanceof MagentoApiError && error.errors && error.errors.length > 0) {
    const details = error.errors.map((e) => fillPlaceholders(e.message, e.parameters));
    return [`${error.storeMessage}: ${details.join('; ')}`];
  }
  return [error instanceof Error ? error.message : String(error)];
}

/** A bar on a terminal; otherwise a line at most once a second, so logs show a long run moving. */
function sendingProgress(): { update: (done: number, total: number) => void; stop: () => void } {
  if (dryRun) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: `${entity} [{bar}] {value}/{total} sent`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update: (done, total) => {
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(done);
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let last = Date.now();
  return {
    update: (done, total) => {
      if (Date.now() - last < 1000 || done === total) return;
      last = Date.now();
      process.stderr.write(`${entity}: ${done}/${total} sent\n`);
    },
    stop: () => undefined,
  };
}

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
  if (!lower.endsWith('.csv')) throw new Error(`The file must end in .csv or .json (got ${file}).`);
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
