import { rm } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { startTestConnector } from '../helpers/connector.js';
import { createTestDatabase } from '../helpers/postgres.js';

interface Health {
  status: string;
  storage: string;
  reason?: string;
}

async function health(url: string): Promise<{ status: number; body: Health; cache: string | null }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as Health, cache: res.headers.get('cache-control') };
}

describe('GET /healthz reads storage', () => {
  it('embedded: 200 while the data folder answers, 503 with a reason once it is gone', async () => {
    const t = await startTestConnector({ SYNC_INTERVALS: 'products=0' });
    try {
      expect(await health(t.connector.url)).toEqual({
        status: 200,
        body: { status: 'ok', storage: 'embedded' },
        cache: 'no-store',
      });
      // The disk under the connector goes away (unmounted, deleted): the next check says so.
      await rm(t.dataDir, { recursive: true, force: true });
      const down = await health(t.connector.url);
      expect(down.status).toBe(503);
      expect(down.cache).toBe('no-store');
      expect(down.body).toEqual({
        status: 'unavailable',
        storage: 'embedded',
        reason: 'embedded storage does not answer (ENOENT); the server log has the details',
      });
      // The public answer carries no path; the log has it.
      expect(JSON.stringify(down.body)).not.toContain(t.dataDir);
      expect(t.logs.join('')).toContain('health check: storage does not answer');
      expect(t.logs.join('')).toContain(t.dataDir);
    } finally {
      await t.close().catch(() => undefined);
    }
  });

  it('PostgreSQL: 200 while the database answers, 503 with its error code once it is gone', async () => {
    const db = await createTestDatabase();
    const t = await startTestConnector({ DATABASE_URL: db.url, SYNC_INTERVALS: 'products=0' });
    try {
      expect((await health(t.connector.url)).body).toEqual({ status: 'ok', storage: 'postgres' });
      await db.drop();
      const down = await health(t.connector.url);
      expect(down.status).toBe(503);
      // 3D000 (no such database), or 57P01 if a pooled connection learns of its end first.
      expect(down.body).toMatchObject({ status: 'unavailable', storage: 'postgres' });
      expect(down.body.reason).toMatch(
        /^postgres storage does not answer \((3D000|57P01)\); the server log has the details$/,
      );
      // The message (host, user) stays in the log.
      expect(down.body.reason).not.toContain(new URL(db.url).hostname);
    } finally {
      await t.close().catch(() => undefined);
      await db.drop();
    }
  }, 40_000);
});
