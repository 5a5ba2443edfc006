import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import pg from 'pg';
import { createFileRecordStore } from '../../src/storage/file-record-store.js';
import { migrate } from '../../src/storage/postgres/migrate.js';
import { createPgRecordStore } from '../../src/storage/postgres/record-store.js';
import type { RecordStore } from '../../src/storage/records.js';
import { createTestDatabase } from './postgres.js';

export interface RecordAdapter {
  name: string;
  open: () => Promise<RecordStore>;
}

/**
 * Both record stores for a test file, for `describe.each`: embedded ones in a temp folder, PostgreSQL
 * ones in a fresh migrated database (one table: give each test its own store key). Call at the top of
 * the file; `cleanup` runs a function (newest first) before the stores and the database go.
 */
export function useRecordAdapters(prefix: string): {
  adapters: RecordAdapter[];
  cleanup: (fn: () => Promise<void>) => void;
} {
  let dir: string;
  let db: { url: string; drop: () => Promise<void> };
  let pool: pg.Pool;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await migrate(pool);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await pool.end();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    adapters: [
      {
        name: 'embedded',
        open: async () => {
          const store = createFileRecordStore(await mkdtemp(path.join(dir, 'records-')));
          cleanups.push(() => store.close());
          return store;
        },
      },
      { name: 'postgres', open: async () => createPgRecordStore(pool) },
    ],
    cleanup: (fn) => cleanups.push(fn),
  };
}
