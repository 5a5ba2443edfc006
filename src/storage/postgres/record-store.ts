import type pg from 'pg';
import type { LocalRecord, RecordStore, UpsertOutcome } from '../records.js';

const PAGE = 1000;

/**
 * One statement per batch: a row whose hash is unchanged is not updated, so it is not returned;
 * `xmax = 0` tells an inserted row from an updated one.
 */
const UPSERT = `INSERT INTO records AS r (store, entity, id, updated_at, hash, data)
  SELECT $1, $2, x.id, x.updated_at, x.hash, x.data
  FROM jsonb_to_recordset($3::jsonb) AS x(id text, updated_at text, hash text, data jsonb)
  ON CONFLICT (store, entity, id) DO UPDATE
    SET updated_at = EXCLUDED.updated_at, hash = EXCLUDED.hash, data = EXCLUDED.data
    WHERE r.hash <> EXCLUDED.hash AND (NOT $4::boolean OR r.updated_at COLLATE "C" <= EXCLUDED.updated_at COLLATE "C")
  RETURNING r.id, (r.xmax = 0) AS inserted`;

interface Row {
  id: string;
  updated_at: string;
  hash: string;
  data: Record<string, unknown>;
  sort_key: string;
}

const toRecord = (r: Row): LocalRecord => ({ id: r.id, updatedAt: r.updated_at, hash: r.hash, data: r.data });

function validate(record: LocalRecord, at: number): void {
  if (typeof record?.id !== 'string' || record.id === '') {
    throw new TypeError(`Record ${at}: id must be a non-empty string.`);
  }
  if (typeof record.hash !== 'string' || record.hash === '') {
    throw new TypeError(`Record ${at} (id ${record.id}): hash must be a non-empty string.`);
  }
}

/** Splits a batch where an id repeats: one statement cannot touch a row twice. */
function withoutRepeats(records: LocalRecord[]): { record: LocalRecord; at: number }[][] {
  const groups: { record: LocalRecord; at: number }[][] = [];
  let current: { record: LocalRecord; at: number }[] = [];
  let ids = new Set<string>();
  records.forEach((record, at) => {
    if (ids.has(record.id)) {
      groups.push(current);
      current = [];
      ids = new Set();
    }
    ids.add(record.id);
    current.push({ record, at });
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Synced records in one table; reads go a page at a time in the file store's id order. */
export function createPgRecordStore(pool: pg.Pool): RecordStore {
  return {
    async upsert(store, entity, records, options = {}) {
      records.forEach(validate);
      const outcomes = new Array<UpsertOutcome>(records.length).fill('unchanged');
      for (const group of withoutRepeats(records)) {
        const payload = group.map(({ record }) => ({
          id: record.id,
          updated_at: record.updatedAt,
          hash: record.hash,
          data: record.data,
        }));
        const { rows } = await pool.query<{ id: string; inserted: boolean }>(UPSERT, [
          store,
          entity,
          JSON.stringify(payload),
          options.ifNotOlder === true,
        ]);
        const changed = new Map(rows.map((r) => [r.id, r.inserted]));
        for (const { record, at } of group) {
          const inserted = changed.get(record.id);
          if (inserted !== undefined) outcomes[at] = inserted ? 'created' : 'updated';
        }
      }
      return outcomes;
    },
    async get(store, entity, id) {
      const { rows } = await pool.query<Row>(
        'SELECT id, updated_at, hash, data FROM records WHERE store = $1 AND entity = $2 AND id = $3',
        [store, entity, id],
      );
      return rows[0] && toRecord(rows[0]);
    },
    async *stream(store, entity) {
      let after: [string, string] | undefined;
      for (;;) {
        const { rows } = await pool.query<Row>(
          `SELECT id, updated_at, hash, data, sort_key FROM records
           WHERE store = $1 AND entity = $2 AND ($3::text IS NULL OR (sort_key, id) > ($3::text COLLATE "C", $4::text COLLATE "C"))
           ORDER BY sort_key, id LIMIT ${PAGE}`,
          [store, entity, after?.[0] ?? null, after?.[1] ?? null],
        );
        for (const row of rows) yield toRecord(row);
        const last = rows.at(-1);
        if (!last || rows.length < PAGE) return;
        after = [last.sort_key, last.id];
      }
    },
    async count(store, entity) {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM records WHERE store = $1 AND entity = $2',
        [store, entity],
      );
      return rows[0]?.n ?? 0;
    },
    async close() {
      // The storage owns the pool.
    },
  };
}
