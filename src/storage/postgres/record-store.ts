import type pg from 'pg';
import type { LocalRecord, RecordStore, UpsertOutcome } from '../records.js';

const PAGE = 1000;

/**
 * One statement per batch: a live row whose hash is unchanged is not updated, so it is not returned;
 * `xmax = 0` tells an inserted row from an updated one. A tombstone is always rewritten: live again.
 */
const UPSERT = `INSERT INTO records AS r (store, entity, id, updated_at, hash, data)
  SELECT $1, $2, x.id, x.updated_at, x.hash, x.data
  FROM jsonb_to_recordset($3::jsonb) AS x(id text, updated_at text, hash text, data jsonb)
  ON CONFLICT (store, entity, id) DO UPDATE
    SET updated_at = EXCLUDED.updated_at, hash = EXCLUDED.hash, data = EXCLUDED.data, deleted_at = NULL
    WHERE (r.hash <> EXCLUDED.hash OR r.deleted_at IS NOT NULL)
      AND (NOT $4::boolean OR r.updated_at COLLATE "C" <= EXCLUDED.updated_at COLLATE "C")
  RETURNING r.id, (r.xmax = 0) AS inserted`;

interface Row {
  id: string;
  updated_at: string;
  hash: string;
  data: Record<string, unknown>;
  deleted_at: Date | null;
  sort_key: string;
}

const COLUMNS = 'id, updated_at, hash, data, deleted_at';

const toRecord = (r: Row): LocalRecord => ({
  id: r.id,
  updatedAt: r.updated_at,
  hash: r.hash,
  data: r.data,
  ...(r.deleted_at ? { deletedAt: r.deleted_at.toISOString() } : {}),
});

/** `numeric ids by value, then text`, as the generated sort_key column computes it. */
function sortKey(id: string): string {
  return /^[0-9]{1,15}$/.test(id) ? `0${id.padStart(15, '0')}` : `1${id}`;
}

/**
 * Rows after a (sort_key, id) position, a page at a time; the same keyset as the index. `live`
 * leaves tombstones out.
 */
async function* pages<T extends { sort_key: string; id: string }>(
  pool: pg.Pool,
  columns: string,
  params: { store: string; entity: string; live: boolean; after?: [string, string] },
): AsyncGenerator<T[]> {
  let after = params.after;
  for (;;) {
    const { rows } = await pool.query<T>(
      `SELECT ${columns}, sort_key FROM records
       WHERE store = $1 AND entity = $2 ${params.live ? 'AND deleted_at IS NULL' : ''}
         AND ($3::text IS NULL OR (sort_key, id) > ($3::text COLLATE "C", $4::text COLLATE "C"))
       ORDER BY sort_key, id LIMIT ${PAGE}`,
      [params.store, params.entity, after?.[0] ?? null, after?.[1] ?? null],
    );
    if (rows.length > 0) yield rows;
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) return;
    after = [last.sort_key, last.id];
  }
}

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
        `SELECT ${COLUMNS} FROM records WHERE store = $1 AND entity = $2 AND id = $3`,
        [store, entity, id],
      );
      return rows[0] && toRecord(rows[0]);
    },
    async *stream(store, entity, options = {}) {
      for await (const rows of pages<Row>(pool, COLUMNS, { store, entity, live: !options.includeDeleted }))
        for (const row of rows) yield toRecord(row);
    },
    async *liveIds(store, entity, after) {
      const from: [string, string] | undefined = after === undefined ? undefined : [sortKey(after), after];
      for await (const rows of pages<{ id: string; sort_key: string }>(pool, 'id', {
        store,
        entity,
        live: true,
        ...(from ? { after: from } : {}),
      }))
        for (const row of rows) yield row.id;
    },
    async markDeleted(store, entity, ids, at) {
      if (ids.length === 0) return 0;
      const { rowCount } = await pool.query(
        `UPDATE records SET deleted_at = $4
         WHERE store = $1 AND entity = $2 AND id = ANY($3::text[]) AND deleted_at IS NULL`,
        [store, entity, [...ids], at],
      );
      return rowCount ?? 0;
    },
    async count(store, entity) {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM records WHERE store = $1 AND entity = $2 AND deleted_at IS NULL',
        [store, entity],
      );
      return rows[0]?.n ?? 0;
    },
    async deleteStore(store) {
      const { rows } = await pool.query<{ n: number }>(
        `WITH gone AS (DELETE FROM records WHERE store = $1 RETURNING deleted_at)
         SELECT count(*) FILTER (WHERE deleted_at IS NULL)::int AS n FROM gone`,
        [store],
      );
      return rows[0]?.n ?? 0;
    },
    async close() {
      // The storage owns the pool.
    },
  };
}
