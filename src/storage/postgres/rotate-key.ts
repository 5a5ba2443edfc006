import pg from 'pg';
import { keyFingerprint } from '../crypto.js';
import { INTEGRATION_SECRET_FIELDS, type IntegrationRecord, type KeyRotation } from '../types.js';
import { APPLICATION_NAMES } from './application-names.js';
import { connectionError } from './connection-error.js';
import { openIntegration, sealIntegration } from './integration-secrets.js';
import { migrate } from './migrate.js';
import { differentKeyError } from './postgres-storage.js';
import { inTransaction } from './transaction.js';

const CONNECTOR_APPLICATIONS = Object.values(APPLICATION_NAMES);
const BATCH = 500;

export type PostgresKeyRotation = KeyRotation & { alreadyRotated: boolean };

/**
 * Re-encrypts every integration secret from `oldKey` to `newKey` in one transaction and records the new
 * key's fingerprint, so the database is wholly on one key or the other. Refused while any connector is
 * connected (its key is the old one); one starting meanwhile waits on the fingerprint row and then
 * refuses the old key. Run again after an interruption, it finds the new key in place.
 */
export async function rotatePostgresKey(options: {
  url: string;
  oldKey: Buffer;
  newKey: Buffer;
  onProgress?: (done: number, total: number) => void;
}): Promise<PostgresKeyRotation> {
  const pool = new pg.Pool({
    connectionString: options.url,
    connectionTimeoutMillis: 5_000,
    max: 1,
    application_name: 'mic-key-rotation',
  });
  pool.on('error', () => undefined);
  try {
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      throw connectionError(options.url, error);
    }
    await migrate(pool);
    const oldFingerprint = keyFingerprint(options.oldKey);
    const newFingerprint = keyFingerprint(options.newKey);
    return await inTransaction(pool, async (client) => {
      await client.query(
        "INSERT INTO storage_meta (name, value) VALUES ('key_fingerprint', $1) ON CONFLICT (name) DO NOTHING",
        [oldFingerprint],
      );
      const meta = await client.query<{ value: string }>(
        "SELECT value FROM storage_meta WHERE name = 'key_fingerprint' FOR UPDATE",
      );
      const current = meta.rows[0]?.value;
      if (current === newFingerprint) return { integrations: 0, secrets: 0, alreadyRotated: true };
      if (current !== oldFingerprint) throw differentKeyError(options.url);
      // Checked with the row locked: a connector starting from now on waits for this transaction.
      const others = await client.query<{ count: string }>(
        `SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = ANY($1)`,
        [CONNECTOR_APPLICATIONS],
      );
      const connected = Number(others.rows[0]?.count ?? 0);
      if (connected > 0) {
        throw new Error(
          `${connected} connector connection(s) are open to this database: stop every connector ` +
            'instance and command first (they hold the old key).',
        );
      }
      const total = Number(
        (await client.query<{ count: string }>('SELECT count(*) FROM integrations')).rows[0]?.count ?? 0,
      );
      const done: PostgresKeyRotation = { integrations: 0, secrets: 0, alreadyRotated: false };
      for (let after = ''; ;) {
        const { rows } = await client.query<{ consumer_key: string; record: IntegrationRecord }>(
          `SELECT consumer_key, record FROM integrations WHERE consumer_key > $1
           ORDER BY consumer_key LIMIT ${BATCH} FOR UPDATE`,
          [after],
        );
        if (rows.length === 0) break;
        const keys: string[] = [];
        const records: string[] = [];
        for (const row of rows) {
          const plain = openIntegration(row.record, options.oldKey);
          const sealed = sealIntegration(plain, options.newKey);
          done.secrets += INTEGRATION_SECRET_FIELDS.filter((field) => plain[field] !== undefined).length;
          keys.push(row.consumer_key);
          records.push(JSON.stringify(sealed));
        }
        await client.query(
          `UPDATE integrations SET record = v.record
           FROM unnest($1::text[], $2::jsonb[]) AS v(consumer_key, record)
           WHERE integrations.consumer_key = v.consumer_key`,
          [keys, records],
        );
        done.integrations += rows.length;
        after = rows[rows.length - 1]!.consumer_key;
        options.onProgress?.(done.integrations, total);
      }
      await client.query("UPDATE storage_meta SET value = $1 WHERE name = 'key_fingerprint'", [
        newFingerprint,
      ]);
      return done;
    });
  } finally {
    await pool.end().catch(() => undefined);
  }
}
