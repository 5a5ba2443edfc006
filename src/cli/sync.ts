import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { ActivationService } from '../activation/activation-service.js';
import { clientForIntegration } from '../activation/store-client.js';
import { createLogger } from '../config/logger.js';
import { exchangeTokens } from '../magento/token-exchange.js';
import type { IntegrationRecord } from '../storage/types.js';
import { MAGENTO2_ENTITIES, magentoTransport } from '../sync/magento2/channel.js';
import { SyncService } from '../sync/sync-service.js';
import { configOrExit } from './lifecycle.js';
import { openStoreStorage } from './open-storage.js';
import { painter } from './style.js';
import { UsageError, usageErrorsExit2 } from './usage.js';
import { matchesStore } from './pick-integration.js';

const program = new Command()
  .name('npm run sync --')
  .description(
    "Sync one entity of a linked store now, with its progress. When a connector (npm start) works this storage's " +
      'sync queue the run is queued for it and followed here; otherwise it runs in this process.',
  )
  .option(
    '--store <keyOrUrl>',
    'consumer key or store URL (see npm run store -- list); needed when several stores are linked',
  )
  .requiredOption('--entity <name>', `what to sync: ${MAGENTO2_ENTITIES.join(', ')}`)
  .option(
    '--full',
    'read every row again, whatever the last run saw (default: only rows changed since)',
    false,
  )
  .addHelpText(
    'after',
    `
The total comes from the store's total_count. On a terminal a bar shows done/total and the time left;
otherwise a line per second. Ctrl-C stops following (a queued run goes on in the connector) or stops a
run in this process after its current page (it resumes from there next time).

Exit codes: 0 the run finished, 1 it failed or the store is not active, 2 a wrong argument, 130 Ctrl-C.

Examples:
  npm run sync -- --entity products
  npm run sync -- --store http://127.0.0.1:3100 --entity customers --full`,
  );
usageErrorsExit2(program).parse();
const opts = program.opts<{ store?: string; entity: string; full: boolean }>();

/** The stored integration for --store: by consumer key, store origin or base URL; any status. */
function findStore(records: IntegrationRecord[], wanted: string | undefined): IntegrationRecord {
  const list =
    records.map((r) => `  ${r.consumerKey}  ${r.storeBaseUrl}  (${r.status})`).join('\n') || '  (none)';
  if (wanted === undefined) {
    if (records.length === 1) return records[0]!;
    throw new UsageError(
      records.length === 0
        ? 'No store is linked yet: activate an integration or run npm run store -- add-manual.'
        : `Several stores are linked; choose one with --store KEY|URL:\n${list}`,
    );
  }
  const found = records.find((r) => matchesStore(r, wanted));
  if (!found) throw new UsageError(`No linked store matches --store ${wanted}. Linked stores:\n${list}`);
  return found;
}

/** A bar on a terminal; a line at most once a second otherwise (and the last one always). */
function progressDisplay(entity: string) {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${entity} [{bar}] {value}/{total} read | {percentage}% | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(read: number, total: number) {
        if (!started) bar.start(Math.max(total, read), read);
        started = true;
        bar.setTotal(Math.max(total, read));
        bar.update(read);
      },
      stop: () => started && bar.stop(),
    };
  }
  let shown = '';
  let at = 0;
  let last = '';
  return {
    update(read: number, total: number) {
      last = `${entity}: ${read}/${Math.max(total, read)} read`;
      if (last === shown || Date.now() - at < 1000) return;
      shown = last;
      at = Date.now();
      process.stderr.write(`${last}\n`);
    },
    stop() {
      if (last && last !== shown) process.stderr.write(`${last}\n`);
    },
  };
}

if (!MAGENTO2_ENTITIES.includes(opts.entity)) {
  console.error(`Unknown entity ${opts.entity}: --entity takes one of ${MAGENTO2_ENTITIES.join(', ')}.`);
  process.exit(2);
}
const config = configOrExit();
const logger = createLogger({ level: 'warn', name: 'sync', toStderr: true });
const storage = await openStoreStorage(config);
const paint = painter(process.stdout);
let exitCode = 0;
const stopping = new AbortController();
process.once('SIGINT', () => stopping.abort());
try {
  const record = findStore(await storage.integrations.list({ secrets: false }), opts.store);
  if (record.status !== 'active')
    throw new Error(
      `${record.storeBaseUrl} is ${record.status}, not active${record.statusReason ? ` (${record.statusReason})` : ''}: ` +
        (record.status === 'needs_reauth'
          ? 'reauthorize the integration in the store admin, then run this again.'
          : 'activate the integration in the store admin first.'),
    );
  const activation = new ActivationService({
    integrations: storage.integrations,
    notices: storage.notices,
    exchange: exchangeTokens,
    signatureMethod: config.MAGENTO_SIGNATURE_METHOD,
    logger,
  });
  const sync = new SyncService({
    storage,
    records: storage.records,
    entities: [...MAGENTO2_ENTITIES],
    pageSize: config.SYNC_PAGE_SIZE,
    deletionScanSeconds: config.DELETION_SCAN_SECONDS,
    sliceSeconds: config.SYNC_SLICE_SECONDS,
    logger,
    transportFor: async (storeKey) => {
      const current = await storage.integrations.get(storeKey);
      if (!current) throw new Error(`The store ${storeKey} was unlinked.`);
      return magentoTransport(
        storeKey,
        clientForIntegration(current, { activation, integrations: storage.integrations }),
      );
    },
  });
  // With a connector working the queue, it runs the job: the embedded records have one writer.
  const connectorRuns = await sync.workerAlive();
  const asked = new Date().toISOString();
  const job = await sync.enqueue(record.consumerKey, opts.entity, { full: opts.full, queue: connectorRuns });
  if (job.createdAt < asked)
    console.error(
      `A ${job.mode} run of ${opts.entity} was open already (${job.status}); following it` +
        `${opts.full && job.mode === 'incremental' ? ' (not a full one: run again with --full after it)' : ''}.`,
    );
  console.error(
    connectorRuns
      ? `Queued for the running connector (job ${job.id}); Ctrl-C stops following, not the run.`
      : `No connector works this storage's sync queue: running here (job ${job.id}).`,
  );
  let failedHere: unknown;
  const running = connectorRuns
    ? undefined
    : sync.runHere(job.id, stopping.signal).then(
        () => undefined,
        (error: unknown) => {
          failedHere = error;
        },
      );
  const progress = progressDisplay(opts.entity);
  // Polls the job document: the same whoever runs it (this process, or a connector that took it over).
  for (;;) {
    const current = await sync.getJob(job.id);
    if (current?.checkpoint?.total !== undefined)
      progress.update(current.checkpoint.counts.read, current.checkpoint.total);
    if (!current || current.status === 'done' || current.status === 'failed' || stopping.signal.aborted)
      break;
    if (failedHere !== undefined) break;
    await sleep(connectorRuns ? 500 : 200);
  }
  await running;
  if (failedHere !== undefined && !stopping.signal.aborted) {
    progress.stop();
    throw failedHere;
  }
  const final = await sync.getJob(job.id);
  progress.stop();
  if (stopping.signal.aborted && final?.status !== 'done' && final?.status !== 'failed') {
    console.error(
      connectorRuns
        ? 'Stopped following; the connector goes on with the run (the dashboard shows it).'
        : `Stopped after ${final?.checkpoint?.counts.read ?? 0} rows; the run resumes from there at the next npm run sync or when the connector starts.`,
    );
    exitCode = 130;
  } else if (!final) {
    throw new Error(`The job ${job.id} is gone (the store was unlinked meanwhile?).`);
  } else {
    const run = (await sync.listRuns(record.consumerKey)).find((r) => r.id === job.id);
    const c = run?.counts ?? final.checkpoint?.counts;
    const counts = c
      ? `${c.read} read, ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.deleted ?? 0} deleted`
      : '';
    const mode = final.mode === 'full' ? 'full scan' : final.mode;
    if (final.status === 'done') {
      console.log(`${paint('green', 'done')}  ${opts.entity} of ${record.storeOrigin} (${mode}): ${counts}.`);
    } else {
      console.log(
        `${paint('red', 'failed')}  ${opts.entity} of ${record.storeOrigin} (${mode}): ${final.error ?? 'unknown error'}`,
      );
      exitCode = 1;
    }
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  exitCode = error instanceof UsageError ? 2 : 1;
} finally {
  await storage.close();
}
process.stdout.write('', () => process.exit(exitCode));

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
