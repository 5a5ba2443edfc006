import type pg from 'pg';
import type { WebhookEventLog } from '../webhook-events.js';

/** Claimed event ids in one table; the primary key makes the first claim win across instances. */
export function createPgWebhookEventLog(pool: pg.Pool): WebhookEventLog {
  return {
    async claim(store, eventId, jobId, at = new Date()) {
      // One statement: insert, or read back who holds the claim (ON CONFLICT returns nothing by itself).
      const { rows } = await pool.query<{ job_id: string; applied: boolean }>(
        `WITH inserted AS (
           INSERT INTO webhook_events (store, event_id, job_id, claimed_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (store, event_id) DO NOTHING RETURNING job_id, applied)
         SELECT job_id, applied FROM inserted
         UNION ALL SELECT job_id, applied FROM webhook_events WHERE store = $1 AND event_id = $2
         LIMIT 1`,
        [store, eventId, jobId, at],
      );
      return rows[0]?.job_id === jobId && !rows[0].applied;
    },
    async applied(store, eventId) {
      await pool.query('UPDATE webhook_events SET applied = true WHERE store = $1 AND event_id = $2', [
        store,
        eventId,
      ]);
    },
    async seen(store, eventId) {
      const { rows } = await pool.query<{ applied: boolean }>(
        'SELECT applied FROM webhook_events WHERE store = $1 AND event_id = $2',
        [store, eventId],
      );
      return rows[0] && (rows[0].applied ? 'applied' : 'claimed');
    },
    async release(store, eventId) {
      await pool.query('DELETE FROM webhook_events WHERE store = $1 AND event_id = $2', [store, eventId]);
    },
    async prune(before, idPrefix) {
      const { rowCount } = await pool.query(
        'DELETE FROM webhook_events WHERE claimed_at < $1 AND ($2::text IS NULL OR starts_with(event_id, $2))',
        [before, idPrefix ?? null],
      );
      return rowCount ?? 0;
    },
  };
}
