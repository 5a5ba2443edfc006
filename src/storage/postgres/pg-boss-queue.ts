import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import type { Job, JobHandler, JobQueue } from '../jobs.js';
import type { PgLogger } from './logger.js';

/** The same defaults as the embedded queue. */
const DEFAULTS = { retryLimit: 2, retryDelaySeconds: 5, retryBackoff: true, expireInSeconds: 15 * 60 };
/** pg-boss 10's floor: a job sent by another instance waits up to this long. */
const POLLING_SECONDS = 0.5;

export interface PgBossQueueOptions {
  url: string;
  logger: PgLogger;
  /** Connections pg-boss keeps for itself. */
  max?: number;
  /**
   * How often (across all instances) jobs active past their expiry are failed into retry: this bounds
   * how long a job whose process was killed waits, after its expiry, before another instance runs it.
   */
  maintenanceIntervalSeconds?: number;
}

export interface PgBossQueue extends JobQueue {
  /** The pg-boss instance, for tests and the dashboard. */
  readonly boss: PgBoss;
}

/**
 * The JobQueue on pg-boss 10, in its own schema (pgboss) of the same database. Queues are created on
 * first use with the `stately` policy: per singletonKey at most one job waiting (created), one in
 * retry and one active, enforced by a unique index, so a send while one waits returns null.
 */
export async function createPgBossQueue(options: PgBossQueueOptions): Promise<PgBossQueue> {
  const { logger } = options;
  const boss = new PgBoss({
    connectionString: options.url,
    max: options.max ?? 3,
    application_name: 'mic-jobs',
    migrate: true,
    // No cron schedules here; the connector's scheduler sends jobs itself.
    schedule: false,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 30,
  });
  // Without a listener an 'error' event would throw; pg-boss reports polling failures through it.
  boss.on('error', (error) => logger.error({ err: error }, 'job queue error'));
  await boss.start();

  const queues = new Map<string, Promise<void>>();
  const running = new Set<AbortController>();
  let stopped = false;

  function ensureQueue(name: string): Promise<void> {
    let created = queues.get(name);
    if (!created) {
      created = boss.createQueue(name, { name, policy: 'stately' });
      created.catch(() => queues.delete(name));
      queues.set(name, created);
    }
    return created;
  }

  async function run(job: PgBoss.JobWithMetadata<object>, handler: JobHandler<object>): Promise<void> {
    const abort = new AbortController();
    running.add(abort);
    // pg-boss fails a job at its expiry while the handler may still run: tell the handler to give up.
    const expiry = setTimeout(() => abort.abort(), job.expireInSeconds * 1000);
    expiry.unref();
    const view: Job<object> = { id: job.id, name: job.name, data: job.data, retryCount: job.retryCount };
    try {
      await handler(view, abort.signal);
    } finally {
      clearTimeout(expiry);
      running.delete(abort);
    }
  }

  return {
    boss,
    async send(name, data, opts = {}) {
      if (stopped) throw new Error('The job queue is stopped.');
      await ensureQueue(name);
      // Under `stately` a job without a key counts as key '' (one waiting per queue): give it its own.
      const id = randomUUID();
      return boss.send(name, data, {
        id,
        singletonKey: opts.singletonKey ?? `job:${id}`,
        ...(opts.startAfterSeconds ? { startAfter: opts.startAfterSeconds } : {}),
        retryLimit: opts.retryLimit ?? DEFAULTS.retryLimit,
        // pg-boss takes whole seconds.
        retryDelay: Math.ceil(opts.retryDelaySeconds ?? DEFAULTS.retryDelaySeconds),
        retryBackoff: opts.retryBackoff ?? DEFAULTS.retryBackoff,
        expireInSeconds: Math.max(1, Math.ceil(opts.expireInSeconds ?? DEFAULTS.expireInSeconds)),
      });
    },
    async work(name, opts, handler) {
      if (stopped) throw new Error('The job queue is stopped.');
      await ensureQueue(name);
      // One pg-boss worker per slot, each fetching one job: a slow job holds only its own slot.
      for (let slot = 0; slot < Math.max(1, opts.concurrency); slot++) {
        await boss.work<object>(
          name,
          { batchSize: 1, pollingIntervalSeconds: POLLING_SECONDS, includeMetadata: true },
          async (jobs) => {
            // Throwing fails the job; pg-boss retries it after its delay, up to its retryLimit.
            for (const job of jobs) await run(job, handler as JobHandler<object>);
          },
        );
      }
    },
    async pending(name) {
      // created, retry and active (states before 'completed').
      return boss.getQueueSize(name, { before: 'completed' });
    },
    async stop(timeoutMs) {
      if (stopped) return;
      stopped = true;
      // Waits for running handlers up to the timeout (at least 1 s, in 0.5 s steps), then fails the
      // unfinished jobs into retry and closes its pool; only then are the late handlers told to stop.
      await boss.stop({ graceful: true, timeout: timeoutMs, wait: true, close: true });
      for (const abort of running) abort.abort();
    },
  };
}
