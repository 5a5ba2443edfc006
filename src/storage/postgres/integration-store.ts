import type pg from 'pg';
import {
  DuplicateError,
  INTEGRATION_SECRET_FIELDS,
  type IntegrationRecord,
  type IntegrationStore,
  NotFoundError,
} from '../types.js';
import { openIntegration, sealIntegration } from './integration-secrets.js';
import { inTransaction, isUniqueViolation } from './transaction.js';

const COLUMNS = 'consumer_key, store_base_url, status, user_id, created_at, record';
const UPSERT = `INSERT INTO integrations (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (consumer_key) DO UPDATE SET store_base_url = EXCLUDED.store_base_url,
    status = EXCLUDED.status, user_id = EXCLUDED.user_id, created_at = EXCLUDED.created_at,
    record = EXCLUDED.record`;

function row(record: IntegrationRecord, key: Buffer): unknown[] {
  return [
    record.consumerKey,
    record.storeBaseUrl,
    record.status,
    record.userId ?? null,
    record.createdAt,
    JSON.stringify(sealIntegration(record, key)),
  ];
}

export function createPgIntegrationStore(pool: pg.Pool, key: Buffer): IntegrationStore {
  const read = (rows: { record: IntegrationRecord }[]) => rows.map((r) => openIntegration(r.record, key));

  return {
    async get(consumerKey) {
      const { rows } = await pool.query<{ record: IntegrationRecord }>(
        'SELECT record FROM integrations WHERE consumer_key = $1',
        [consumerKey],
      );
      return read(rows)[0];
    },
    async list(filter = {}) {
      // Without secrets: removed in the query, so there is nothing to decrypt.
      const { rows } = await pool.query<{ record: IntegrationRecord }>(
        `SELECT CASE WHEN $3::text[] IS NULL THEN record ELSE record - $3::text[] END AS record
         FROM integrations
         WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::text IS NULL OR user_id = $2)
         ORDER BY created_at DESC, consumer_key`,
        [
          filter.statuses ? [...filter.statuses] : null,
          filter.userId ?? null,
          filter.secrets === false ? [...INTEGRATION_SECRET_FIELDS] : null,
        ],
      );
      return read(rows);
    },
    async listByStore(storeBaseUrl) {
      const { rows } = await pool.query<{ record: IntegrationRecord }>(
        'SELECT record FROM integrations WHERE store_base_url = $1 ORDER BY created_at DESC, consumer_key',
        [storeBaseUrl],
      );
      return read(rows);
    },
    async create(record) {
      try {
        await pool.query(
          `INSERT INTO integrations (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
          row(record, key),
        );
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new DuplicateError(`An integration with consumer key ${record.consumerKey} exists.`);
        }
        throw error;
      }
    },
    async put(record) {
      await pool.query(UPSERT, row(record, key));
    },
    update(consumerKey, change) {
      // The row lock holds other instances' updates until this one commits.
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ record: IntegrationRecord }>(
          'SELECT record FROM integrations WHERE consumer_key = $1 FOR UPDATE',
          [consumerKey],
        );
        const current = read(rows)[0];
        if (!current) throw new NotFoundError(`No integration with consumer key ${consumerKey}.`);
        const next = change(structuredClone(current));
        if (next === undefined) return current;
        if (next.consumerKey !== consumerKey) {
          throw new Error('An update cannot change the consumer key; put a new record instead.');
        }
        await client.query(UPSERT, row(next, key));
        return structuredClone(next);
      });
    },
    async delete(consumerKey) {
      const { rowCount } = await pool.query('DELETE FROM integrations WHERE consumer_key = $1', [
        consumerKey,
      ]);
      return (rowCount ?? 0) > 0;
    },
  };
}
