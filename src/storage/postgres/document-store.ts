import type pg from 'pg';
import type { DocumentCollection, DocumentStore } from '../types.js';
import { inTransaction } from './transaction.js';

const UPSERT = `INSERT INTO documents (collection, id, doc) VALUES ($1, $2, $3)
  ON CONFLICT (collection, id) DO UPDATE SET doc = EXCLUDED.doc`;

export function createPgDocumentStore<T extends { id: string }>(
  pool: pg.Pool,
  collection: DocumentCollection,
): DocumentStore<T> {
  return {
    async get(id) {
      const { rows } = await pool.query<{ doc: T }>(
        'SELECT doc FROM documents WHERE collection = $1 AND id = $2',
        [collection, id],
      );
      return rows[0]?.doc;
    },
    async list(filter) {
      // `doc @> filter` is what the GIN index answers.
      const { rows } = await pool.query<{ doc: T }>(
        'SELECT doc FROM documents WHERE collection = $1 AND doc @> $2::jsonb ORDER BY seq',
        [collection, JSON.stringify(filter ?? {})],
      );
      return rows.map((r) => r.doc);
    },
    async put(doc) {
      await pool.query(UPSERT, [collection, doc.id, JSON.stringify(doc)]);
    },
    update(id, change) {
      return inTransaction(pool, async (client) => {
        // Row locks cannot hold a document that does not exist yet: a lock on the id serialises both cases.
        await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))", [
          collection,
          id,
        ]);
        const { rows } = await client.query<{ doc: T }>(
          'SELECT doc FROM documents WHERE collection = $1 AND id = $2',
          [collection, id],
        );
        const next = change(rows[0]?.doc);
        if (next.id !== id) throw new Error('An update cannot change the document id.');
        await client.query(UPSERT, [collection, id, JSON.stringify(next)]);
        return structuredClone(next);
      });
    },
    async delete(id) {
      await pool.query('DELETE FROM documents WHERE collection = $1 AND id = $2', [collection, id]);
    },
  };
}
