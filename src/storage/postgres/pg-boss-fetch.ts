import type PgBoss from 'pg-boss';

/** pg-boss's schema (its default). */
const SCHEMA = 'pgboss';

/**
 * pg-boss 10's own fetch (fetchNextJob in its plans.js) with one more condition: a job whose
 * singletonKey already has an active job is passed over. pg-boss takes the oldest job whatever its key;
 * under `stately` marking that one active breaks the unique index, the fetch fails, and every other
 * key waits behind it until the active job ends (pg-boss issue #535, PR #536). The claim itself is
 * pg-boss's: state 'active', started_on, retry_count counted from the second start.
 */
const FETCH = `
  WITH next AS (
    SELECT j.id FROM ${SCHEMA}.job j
    WHERE j.name = $1 AND j.state < 'active' AND j.start_after < now()
      AND NOT EXISTS (
        SELECT 1 FROM ${SCHEMA}.job a
        WHERE a.name = $1 AND a.state = 'active' AND a.policy = 'stately'
          AND COALESCE(a.singleton_key, '') = COALESCE(j.singleton_key, '')
      )
    ORDER BY j.priority DESC, j.created_on, j.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
  )
  UPDATE ${SCHEMA}.job j SET
    state = 'active',
    started_on = now(),
    retry_count = CASE WHEN j.started_on IS NOT NULL THEN j.retry_count + 1 ELSE j.retry_count END
  FROM next
  WHERE j.name = $1 AND j.id = next.id
  RETURNING j.id, j.name, j.data, j.retry_count AS "retryCount",
    EXTRACT(epoch FROM j.expire_in)::float8 AS "expireInSeconds"`;

export interface FetchedJob {
  id: string;
  name: string;
  data: object;
  retryCount: number;
  expireInSeconds: number;
}

/**
 * Claims the next due job of a queue, if any. One at a time: two jobs of one key (its waiting and its
 * retrying one) in one claim would break the index. Two instances claiming those two at the same
 * instant: one gets a unique violation and claims nothing this time.
 */
export async function fetchJob(boss: PgBoss, name: string): Promise<FetchedJob | undefined> {
  try {
    // After stop() pg-boss answers undefined instead of querying.
    const result = await boss.getDb().executeSql(FETCH, [name]);
    // pg-boss types rows as any[]; this query's RETURNING clause fixes their shape.
    return result?.rows[0] as FetchedJob | undefined;
  } catch (error) {
    if ((error as { code?: unknown }).code === '23505') return undefined;
    throw error;
  }
}
