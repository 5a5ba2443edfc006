/**
 * Durable jobs (token exchanges, sync runs): the embedded default runs them in-process from its own
 * files, PostgreSQL on pg-boss so any instance may run any job. Work that must survive a crash goes
 * through here, never through a bare promise.
 */

export interface JobSendOptions {
  /**
   * At most one waiting and one running job per key and queue (pg-boss's "stately" policy): sending
   * while one waits returns null.
   */
  singletonKey?: string;
  startAfterSeconds?: number;
  /** Attempts after the first failure (default 2). */
  retryLimit?: number;
  retryDelaySeconds?: number;
  /** Doubles the delay after each failure. */
  retryBackoff?: boolean;
  /**
   * A job running longer than this is presumed dead (its process was killed) and is retried by any
   * instance. Handlers keep each run well under it (a long sync continues in a new job).
   */
  expireInSeconds?: number;
}

export interface Job<T> {
  id: string;
  name: string;
  data: T;
  /** 0 on the first attempt. */
  retryCount: number;
}

/** Throwing retries the job (up to its retryLimit); returning completes it. */
export type JobHandler<T> = (job: Job<T>, signal: AbortSignal) => Promise<void>;

export interface JobQueue {
  /** Stored when the promise resolves: the id, or null when a job with the same singletonKey waits. */
  send<T extends object>(name: string, data: T, options?: JobSendOptions): Promise<string | null>;
  /** Runs jobs of this queue in this process, `concurrency` at a time. */
  work<T extends object>(
    name: string,
    options: { concurrency: number },
    handler: JobHandler<T>,
  ): Promise<void>;
  /** Jobs waiting or running in a queue (the dashboard and tests). */
  pending(name: string): Promise<number>;
  /**
   * Stops taking jobs and waits up to `timeoutMs` for running handlers, then aborts their signals;
   * an unfinished job runs again later (here after a restart, or on another instance).
   */
  stop(timeoutMs: number): Promise<void>;
}
