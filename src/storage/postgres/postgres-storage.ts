import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import pg from 'pg';
import { DifferentKeyError, keyFingerprint } from '../crypto.js';
import type { DocumentCollection, DocumentStore, Storage } from '../types.js';
import { APPLICATION_NAMES } from './application-names.js';
import { createPgChangeNotices } from './change-notices.js';
import { connectionError, redactUrl } from './connection-error.js';
import { createPgDocumentStore } from './document-store.js';
import { createPgIntegrationStore } from './integration-store.js';
import { type PgLogger, silentLogger } from './logger.js';
import { migrate } from './migrate.js';
import { createPgBossQueue, type PgBossQueue } from './pg-boss-queue.js';
import { createPgRecordStore } from './record-store.js';
import { createPgUserStore } from './user-store.js';
import { createPgWebhookEventLog } from './webhook-event-log.js';

const PgSessionStore = connectPgSimple(session);

export interface PostgresStorageOptions {
  url: string;
  /** The TOKEN_ENCRYPTION_KEY that encrypts integration secrets. */
  key: Buffer;
  logger?: Partial<PgLogger>;
  /** Connections in the main pool (default 10); pg-boss and the listener use 3 and 1 more. */
  max?: number;
  /** A down server fails within this (default 5 s), so callers can answer 503. */
  connectionTimeoutMillis?: number;
  /** See PgBossQueueOptions (tests shorten it). */
  maintenanceIntervalSeconds?: number;
  /** How long close() waits for running jobs (default 10 s). */
  stopTimeoutMs?: number;
}

export type PostgresStorage = Storage & { queue: PgBossQueue; pool: pg.Pool };

/**
 * Storage on PostgreSQL (DATABASE_URL): any number of instances share one database. The schema is
 * migrated at start; integration secrets are encrypted with the same key as the embedded files.
 */
export async function createPostgresStorage(options: PostgresStorageOptions): Promise<PostgresStorage> {
  const logger: PgLogger = {
    info: options.logger?.info?.bind(options.logger) ?? silentLogger.info,
    warn: options.logger?.warn?.bind(options.logger) ?? silentLogger.warn,
    error: options.logger?.error?.bind(options.logger) ?? silentLogger.error,
  };
  const connection: pg.ClientConfig = {
    connectionString: options.url,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
  };
  const pool = new pg.Pool({
    ...connection,
    max: options.max ?? 10,
    application_name: APPLICATION_NAMES.pool,
  });
  // An idle connection that breaks emits here; unhandled, it would end the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'A pooled PostgreSQL connection failed.'));

  const opened: { close(): Promise<void> }[] = [];
  try {
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      throw connectionError(options.url, error);
    }
    const applied = await migrate(pool);
    if (applied.length > 0) logger.info({ versions: applied }, 'Database schema migrated.');
    await checkKey(pool, options.key, options.url);

    const notices = await createPgChangeNotices({
      pool,
      connection: { ...connection, application_name: APPLICATION_NAMES.notices },
      logger,
    });
    opened.push(notices);
    const queue = await createPgBossQueue({
      url: options.url,
      pool,
      logger,
      ...(options.connectionTimeoutMillis
        ? { connectionTimeoutMillis: options.connectionTimeoutMillis }
        : {}),
      ...(options.maintenanceIntervalSeconds
        ? { maintenanceIntervalSeconds: options.maintenanceIntervalSeconds }
        : {}),
    });
    opened.push({ close: () => queue.stop(1_000) });

    let sessions: InstanceType<typeof PgSessionStore> | undefined;
    let closing: Promise<void> | undefined;
    return {
      kind: 'postgres',
      pool,
      integrations: createPgIntegrationStore(pool, options.key),
      users: createPgUserStore(pool),
      documents: <T extends { id: string }>(collection: DocumentCollection): DocumentStore<T> =>
        createPgDocumentStore<T>(pool, collection),
      records: createPgRecordStore(pool),
      webhookEvents: createPgWebhookEventLog(pool),
      notices,
      queue,
      sessionStore() {
        sessions ??= new PgSessionStore({
          pool,
          tableName: 'session',
          // The table comes from the migrations.
          createTableIfMissing: false,
          pruneSessionInterval: 15 * 60,
          errorLog: (...args: unknown[]) =>
            logger.warn({ details: args.map(String) }, 'Session store error.'),
        });
        return sessions;
      },
      async ping() {
        await pool.query('SELECT 1');
      },
      close() {
        closing ??= (async () => {
          await queue.stop(options.stopTimeoutMs ?? 10_000);
          sessions?.close();
          await notices.close();
          await pool.end();
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const part of opened.reverse()) await part.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
}

async function checkKey(pool: pg.Pool, key: Buffer, url: string): Promise<void> {
  const fingerprint = keyFingerprint(key);
  await pool.query(
    "INSERT INTO storage_meta (name, value) VALUES ('key_fingerprint', $1) ON CONFLICT (name) DO NOTHING",
    [fingerprint],
  );
  // FOR SHARE waits for a key rotation under way, so an instance starting meanwhile sees its outcome.
  const { rows } = await pool.query<{ value: string }>(
    "SELECT value FROM storage_meta WHERE name = 'key_fingerprint' FOR SHARE",
  );
  if (rows[0]?.value !== fingerprint) throw differentKeyError(url);
}

export function differentKeyError(url: string): DifferentKeyError {
  return new DifferentKeyError(
    `The database at DATABASE_URL (${redactUrl(url)}) holds secrets encrypted with a different ` +
      'TOKEN_ENCRYPTION_KEY; set the key it was written with (after an interrupted ' +
      '`npm run key -- rotate`, run it again).',
  );
}
