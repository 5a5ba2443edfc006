import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { configOrExit } from './lifecycle.js';
import { pickIntegration } from './pick-integration.js';
import { openStoreStorage } from './open-storage.js';
import {
  EXPORT_ENTITIES,
  exportRecords,
  isExportEntity,
  type ExportEntity,
  type ExportFormat,
} from '../sync/import-export/export.js';
import { usageErrorsExit2 } from './usage.js';

const program = new Command()
  .name('npm run export --')
  .description("Write the records synced from a linked store as CSV or JSON (the store's own fields).")
  .requiredOption('--entity <name>', EXPORT_ENTITIES.join(', '), (v: string) => {
    if (!isExportEntity(v)) throw new InvalidArgumentError(`must be one of ${EXPORT_ENTITIES.join(', ')}.`);
    return v;
  })
  .option(
    '--format <format>',
    'csv or json (default: json for an --out ending in .json, else csv)',
    (v: string) => {
      if (v !== 'csv' && v !== 'json') throw new InvalidArgumentError('must be csv or json.');
      return v;
    },
  )
  .option('--out <file>', 'write to this file instead of stdout')
  .option('--store <keyOrUrl>', 'consumer key or store URL (needed when several stores are linked)')
  .option(
    '--include-deleted',
    'also the records a deletion scan found gone from the store, with the time in a deleted_at column',
  )
  .addHelpText(
    'after',
    `
Examples:
  npm run export -- --entity products > products.csv
  npm run export -- --store http://127.0.0.1:3100 --entity orders --format json --out orders.json
  npm run export -- --entity products --include-deleted --out products-with-deleted.csv`,
  )
  .showHelpAfterError();

usageErrorsExit2(program).parse();
const opts = program.opts<{
  entity: ExportEntity;
  format?: ExportFormat;
  out?: string;
  store?: string;
  includeDeleted?: boolean;
}>();
const includeDeleted = opts.includeDeleted === true;
const format: ExportFormat = opts.format ?? (opts.out?.toLowerCase().endsWith('.json') ? 'json' : 'csv');

const config = configOrExit();
const storage = await openStoreStorage(config);
const { records } = storage;
let exitCode = 0;
try {
  const integration = pickIntegration(await storage.integrations.list(), opts.store);
  const rows = opts.out
    ? await exportToFile(opts.out, integration.consumerKey)
    : (
        await exportRecords({
          records,
          store: integration.consumerKey,
          entity: opts.entity,
          format,
          out: process.stdout,
          includeDeleted,
        })
      ).rows;
  if (rows === 0) {
    console.error(
      `Nothing to export: no ${opts.entity} have been synced from ${integration.storeOrigin} yet.`,
    );
  } else if (opts.out) {
    console.error(
      `${rows} ${opts.entity} from ${integration.storeOrigin} written to ${opts.out} (${format}).`,
    );
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  exitCode = 1;
} finally {
  await storage.close();
}
// Let a piped stdout drain before exiting.
process.stdout.write('', () => process.exit(exitCode));

/** Writes beside the target and renames at the end, so a failed export never leaves half a file. */
async function exportToFile(file: string, store: string): Promise<number> {
  const temp = `${file}.${randomBytes(4).toString('hex')}.partial`;
  const out = createWriteStream(temp, { flags: 'wx' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: `${opts.entity} [{bar}] {value}/{total}`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  try {
    bar?.start(await records.count(store, opts.entity), 0);
    const { rows } = await Promise.race([
      exportRecords({
        records,
        store,
        entity: opts.entity,
        format,
        out,
        includeDeleted,
        onProgress: (done, total) => {
          bar?.setTotal(total);
          bar?.update(done);
        },
      }),
      failed,
    ]);
    await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
    await rename(temp, file);
    return rows;
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  } finally {
    bar?.stop();
  }
}
