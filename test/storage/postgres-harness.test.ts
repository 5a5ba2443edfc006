import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createTestDatabase } from '../helpers/postgres.js';

describe('the test run PostgreSQL', () => {
  it('gives each test file its own empty database that takes writes', async () => {
    const db = await createTestDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('CREATE TABLE t (n int)');
      await client.query('INSERT INTO t VALUES (41), (1)');
      const { rows } = await client.query<{ sum: string }>('SELECT sum(n) FROM t');
      expect(rows[0]?.sum).toBe('42');
    } finally {
      await client.end();
      await db.drop();
    }
  });
});
