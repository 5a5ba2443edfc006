import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { AppError } from '../../errors.js';

/**
 * Versioned SQL files (`NNN-name.sql`) applied in order at start, each in its own transaction, under
 * one advisory lock so that of several instances starting together one migrates and the others wait.
 * A small runner rather than node-pg-migrate: the files are plain SQL, nothing runs down, and the
 * start needs one more check (a schema newer than the code) that is a few lines here.
 */

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, 'migrations');
/** Any fixed number; names the lock in pg_locks. */
const MIGRATION_LOCK = 7_305_118_214;
const FILE_NAME = /^(\d{3})-[a-z0-9-]+\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => FILE_NAME.test(n)).sort();
  return Promise.all(
    names.map(async (name) => ({
      version: Number(FILE_NAME.exec(name)?.[1]),
      name,
      sql: await readFile(path.join(dir, name), 'utf8'),
    })),
  );
}

export class SchemaTooNewError extends AppError {
  override name = 'SchemaTooNewError';
  declare readonly code: 'schema_too_new';
  constructor(message: string, options?: ErrorOptions) {
    super('schema_too_new', message, options);
  }
}

/** Applies what is missing; returns the versions applied now. */
export async function migrate(pool: pg.Pool, migrations?: Migration[]): Promise<number[]> {
  const known = migrations ?? (await readMigrations());
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    const latest = Math.max(0, ...known.map((m) => m.version));
    if (newest > latest) {
      throw new SchemaTooNewError(
        `The database schema is at version ${newest}, newer than this program knows (${latest}): ` +
          'run the release that migrated it (or a newer one), or restore a backup.',
      );
    }
    const done: number[] = [];
    for (const migration of known.filter((m) => !applied.has(m.version))) {
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
      done.push(migration.version);
    }
    return done;
  } finally {
    // A connection that could not unlock is dropped, which frees the lock, rather than pooled holding it.
    const unlocked = await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).then(
      () => true,
      () => false,
    );
    client.release(!unlocked);
  }
}
