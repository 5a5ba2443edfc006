import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import PgBoss from 'pg-boss';
import type { Job, JobHandler, JobQueue } from '../jobs.js';
import type { PgLogger } from './logger.js';
import { type FetchedJob, fetchJob } from './pg-boss-fetch.js';
import { APPLICATION_NAMES } from './application-names.js';

/** The same defaults as the embedded queue. */
const DEFAULTS = { retryLimit: 2, retryDelaySeconds: 5, retryBackoff: true, expireInSeconds: 15 * 60 };
/** pg-boss 10's polling floor; a send in this process wakes its workers at once. */
const POLL_MS = 500;
/** Advisory lock key serialising queue creation across instances (any fixed bigint unique to it). */
const QUEUE_CREATION_LOCK = '7209741335501184217';

export interface PgBossQueueOptions {
  url: string;
  logger: PgLogger;
  /** Connections pg-boss keeps for itself. */
  max?: number;
  connectionTimeoutMillis?: number;
  /** Answers pending() also after stop() (the storage's pool). */
  pool: pg.Pool;
  /**
   * How often (across all instances) jobs active past their expiry are failed into retry: with the
   * expiry, this bounds how long the job of a killed process waits before another instance runs it.
   */
  maintenanceIntervalSeconds?: number;
}

export interface PgBossQueue extends JobQueue {
  /** The pg-boss instance, for tests and the dashboard. */
  readonly boss: PgBoss;
}

interface Worker {
  name: string;
  concurrency: number;
  handler: JobHandler<object>;
  timer: NodeJS.Timeout;
  /** The fetch under way, if any: stop() waits for it, so no job is claimed and then forgotten. */
  polling: Promise<void> | undefined;
}

interface Running {
  abort: AbortController;
  done: Promise<void>;
  name: string;
}

/**
 * The JobQueue on pg-boss 10, in its own schema (pgboss) of the same database. Queues are created on
 * first use with the `stately` policy: per singletonKey at most one job created, one in retry and one
 * active (a unique index), so a send while one waits returns null. pg-boss stores, deduplicates,
 * completes, retries (with backoff) and expires jobs; claiming is ours (see pg-boss-fetch.ts), so a
 * job waiting behind its key's running one does not hold up the other keys.
 */
export async function createPgBossQueue(options: PgBossQueueOptions): Promise<PgBossQueue> {
  const { logger } = options;
  const config: PgBoss.ConstructorOptions & { connectionTimeoutMillis: number } = {
    connectionString: options.url,
    max: options.max ?? 3,
    // Not in pg-boss's types, but its pool is a pg.Pool built from these options: a down server fails fast.
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    application_name: APPLICATION_NAMES.jobs,
    migrate: true,
    // No cron schedules here; the connector's scheduler sends jobs itself.
    schedule: false,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 30,
  };
  const boss = new PgBoss(config);
  // Without a listener an 'error' event would throw; pg-boss reports maintenance failures through it.
  boss.on('error', (error) => logger.error({ err: error }, 'job queue error'));
  await boss.start();

  const queues = new Map<string, Promise<void>>();
  const workers = new Map<string, Worker>();
  const running = new Map<string, Running>();
  let stopped = false;

  /**
   * pg-boss's create_queue inserts the queue's row and attaches a partition (DML then DDL): two
   * instances creating queues at once deadlock (PostgreSQL aborts one, and that instance fails to
   * start). One session advisory lock, held on a connection of our own pool, makes them take turns.
   */
  async function createQueueLocked(name: string): Promise<void> {
    if (await boss.getQueue(name)) return;
    const client = await options.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [QUEUE_CREATION_LOCK]);
      try {
        await boss.createQueue(name, { name, policy: 'stately' });
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [QUEUE_CREATION_LOCK]);
      }
      client.release();
    } catch (error) {
      // A connection whose unlock failed may still hold the lock: closed, not pooled.
      client.release(error as Error);
      throw error;
    }
  }

  function ensureQueue(name: string): Promise<void> {
    let created = queues.get(name);
    if (!created) {
      created = createQueueLocked(name);
      created.catch(() => queues.delete(name));
      queues.set(name, created);
    }
    return created;
  }

  const runningIn = (name: string) => [...running.values()].filter((r) => r.name === name).length;

  function poll(worker: Worker): Promise<void> {
    if (stopped || worker.polling) return worker.polling ?? Promise.resolve();
    const run = (async () => {
      try {
        while (!stopped && runningIn(worker.name) < worker.concurrency) {
          const job = await fetchJob(boss, worker.name);
          if (!job) break;
          launch(worker, job);
        }
      } catch (error) {
        logger.error({ err: error, queue: worker.name }, 'job queue: could not fetch jobs');
      }
    })();
    // Cleared after the fact: the body may finish before this assignment.
    worker.polling = run;
    void run.then(() => {
      if (worker.polling === run) worker.polling = undefined;
    });
    return run;
  }

  function launch(worker: Worker, fetched: FetchedJob): void {
    const abort = new AbortController();
    const job: Job<object> = {
      id: fetched.id,
      name: fetched.name,
      data: fetched.data,
      retryCount: fetched.retryCount,
    };
    // Past its expiry pg-boss's maintenance fails the job into retry (another instance may take it):
    // the handler is told to stop and its outcome is no longer recorded here.
    const expiry = setTimeout(() => abort.abort(), fetched.expireInSeconds * 1000);
    expiry.unref();
    const done = (async () => {
      try {
        await worker.handler(job, abort.signal);
        if (!abort.signal.aborted) await settle(job, 'completed');
      } catch (error) {
        // Throwing fails the job; pg-boss retries it after its delay, up to its retryLimit.
        if (!abort.signal.aborted) await settle(job, 'failed', error);
      } finally {
        clearTimeout(expiry);
        running.delete(job.id);
        void poll(worker);
      }
    })();
    running.set(job.id, { abort, done, name: worker.name });
  }

  async function settle(job: Job<object>, outcome: 'completed' | 'failed' | 'stopped', error?: unknown) {
    try {
      if (outcome === 'completed') await boss.complete(job.name, job.id);
      else {
        const message = error instanceof Error ? error.message : String(error);
        await boss.fail(job.name, job.id, { message: message.slice(0, 1000), outcome });
      }
    } catch (failure) {
      // The job stays active; pg-boss's maintenance fails it into retry once it expires.
      logger.error(
        { err: failure, job: job.id, queue: job.name },
        'job queue: could not record a job outcome',
      );
    }
  }

  return {
    boss,
    async send(name, data, opts = {}) {
      if (stopped) throw new Error('The job queue is stopped.');
      await ensureQueue(name);
      // Under `stately` a job without a key counts as key '' (one waiting per queue): give it its own.
      const id = randomUUID();
      const sent = await boss.send(name, data, {
        id,
        singletonKey: opts.singletonKey ?? `job:${id}`,
        ...(opts.startAfterSeconds ? { startAfter: opts.startAfterSeconds } : {}),
        retryLimit: opts.retryLimit ?? DEFAULTS.retryLimit,
        // pg-boss takes whole seconds.
        retryDelay: Math.ceil(opts.retryDelaySeconds ?? DEFAULTS.retryDelaySeconds),
        retryBackoff: opts.retryBackoff ?? DEFAULTS.retryBackoff,
        expireInSeconds: Math.max(1, Math.ceil(opts.expireInSeconds ?? DEFAULTS.expireInSeconds)),
      });
      const worker = workers.get(name);
      if (sent && worker && !opts.startAfterSeconds) void poll(worker);
      return sent;
    },
    async work(name, opts, handler) {
      if (stopped) throw new Error('The job queue is stopped.');
      await ensureQueue(name);
      const existing = workers.get(name);
      if (existing) clearInterval(existing.timer);
      const worker: Worker = {
        name,
        concurrency: Math.max(1, opts.concurrency),
        handler: handler as JobHandler<object>,
        timer: setInterval(() => void poll(worker), POLL_MS),
        polling: undefined,
      };
      worker.timer.unref();
      workers.set(name, worker);
      void poll(worker);
    },
    async pending(name) {
      // created, retry and active: the states before 'completed' (pg-boss's getQueueSize, which stop() closes).
      const { rows } = await options.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state < 'completed'",
        [name],
      );
      return rows[0]?.n ?? 0;
    },
    async stop(timeoutMs) {
      if (stopped) return;
      stopped = true;
      for (const worker of workers.values()) clearInterval(worker.timer);
      await Promise.all([...workers.values()].map((w) => w.polling));
      const all = Promise.allSettled([...running.values()].map((r) => r.done));
      const late = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
      ]);
      if (late) {
        // Failed into retry first, so another instance (or the next start) runs them again.
        for (const [id, r] of running) {
          await settle(
            { id, name: r.name, data: {}, retryCount: 0 },
            'stopped',
            new Error('Stopped while running.'),
          );
          r.abort.abort();
        }
        await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      }
      await boss.stop({ graceful: false, close: true, wait: true });
    },
  };
}
