import { randomUUID } from 'node:crypto';
import type { Job, JobHandler, JobQueue, JobSendOptions } from './jobs.js';
import type { DocumentStore } from './types.js';

/** A job as the embedded queue keeps it: one document per job, in its own collection. */
export interface QueuedJobDocument {
  id: string;
  name: string;
  data: object;
  state: 'created' | 'retry' | 'active';
  singletonKey?: string;
  /** ISO time before which the job is not started. */
  startAfter: string;
  retryCount: number;
  retryLimit: number;
  retryDelaySeconds: number;
  retryBackoff: boolean;
  expireInSeconds: number;
  createdAt: string;
  startedAt?: string;
  /** The process running it. */
  owner?: string;
  lastError?: string;
}

interface Logger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DocumentJobQueueOptions {
  jobs: DocumentStore<QueuedJobDocument>;
  logger?: Logger;
  /** How often workers look for due jobs; a local send wakes them at once. */
  pollMs?: number;
  now?: () => number;
}

const DEFAULTS = { retryLimit: 2, retryDelaySeconds: 5, retryBackoff: true, expireInSeconds: 15 * 60 };

/**
 * The embedded default's queue: jobs are documents, so they survive kill -9; one process works them.
 * A job left `active` by a process that died is started again when a worker starts, or once it expires.
 * Completed and finally failed jobs are deleted (the sync layer keeps its own run log).
 */
export function createDocumentJobQueue(options: DocumentJobQueueOptions): JobQueue {
  const { jobs, logger } = options;
  const now = options.now ?? Date.now;
  const owner = randomUUID();
  const workers = new Map<string, { concurrency: number; handler: JobHandler<object> }>();
  const running = new Map<string, { name: string; abort: AbortController; done: Promise<void> }>();
  const runningIn = (name: string) => [...running.values()].filter((r) => r.name === name).length;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let pumping: Promise<void> | undefined;
  let again = false;

  const due = (j: QueuedJobDocument, at: number) =>
    (j.state === 'created' || j.state === 'retry') && Date.parse(j.startAfter) <= at;
  const expired = (j: QueuedJobDocument, at: number) =>
    j.state === 'active' &&
    !running.has(j.id) &&
    (j.owner !== owner || Date.parse(j.startedAt ?? j.createdAt) + j.expireInSeconds * 1000 <= at);

  function wake(): void {
    if (stopped || workers.size === 0) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = pump()
      .catch((error: unknown) => logger?.error({ err: error }, 'job queue: could not read jobs'))
      .finally(() => {
        pumping = undefined;
        if (again) {
          again = false;
          wake();
        }
      });
  }

  async function pump(): Promise<void> {
    // Every worker busy: nothing could start, so do not read (and copy) every waiting job.
    const free = [...workers].some(([name, w]) => runningIn(name) < w.concurrency);
    if (!free) return;
    const at = now();
    const all = await jobs.list();
    // A job whose process died (or that ran past its expiry) waits again.
    for (const j of all.filter((x) => expired(x, at))) {
      await jobs.update(j.id, (cur) =>
        cur && expired(cur, at)
          ? { ...cur, state: 'retry', owner: undefined, startAfter: new Date(at).toISOString() }
          : cur!,
      );
      j.state = 'retry';
      j.startAfter = new Date(at).toISOString();
    }
    const activeKeys = new Set(
      all.filter((j) => j.state === 'active' && j.singletonKey).map((j) => `${j.name}\n${j.singletonKey}`),
    );
    const candidates = all.filter((j) => due(j, at)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const candidate of candidates) {
      if (stopped) return;
      const worker = workers.get(candidate.name);
      if (!worker) continue;
      if (runningIn(candidate.name) >= worker.concurrency) continue;
      const key = candidate.singletonKey && `${candidate.name}\n${candidate.singletonKey}`;
      if (key && activeKeys.has(key)) continue;
      const claimed = await claim(candidate.id, at);
      if (!claimed) continue;
      if (key) activeKeys.add(key);
      launch(claimed, worker.handler);
    }
  }

  async function claim(id: string, at: number): Promise<QueuedJobDocument | undefined> {
    let won = false;
    const doc = await jobs.update(id, (cur) => {
      if (!cur || !due(cur, at)) return cur!;
      won = true;
      return { ...cur, state: 'active', owner, startedAt: new Date(at).toISOString() };
    });
    return won ? doc : undefined;
  }

  function launch(doc: QueuedJobDocument, handler: JobHandler<object>): void {
    const abort = new AbortController();
    const job: Job<object> = { id: doc.id, name: doc.name, data: doc.data, retryCount: doc.retryCount };
    const done = handler(job, abort.signal)
      .then(
        () => (abort.signal.aborted ? undefined : jobs.delete(doc.id)),
        (error: unknown) => (abort.signal.aborted ? undefined : failed(doc, error)),
      )
      .catch((error: unknown) =>
        // The job stays active and is picked up again at the next start or after it expires.
        logger?.error({ err: error, job: doc.id }, 'job queue: could not record a job outcome'),
      )
      .finally(() => {
        running.delete(doc.id);
        wake();
      });
    running.set(doc.id, { name: doc.name, abort, done });
  }

  async function failed(doc: QueuedJobDocument, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    if (doc.retryCount >= doc.retryLimit) {
      logger?.warn({ job: doc.id, queue: doc.name, error: message }, 'job failed for good');
      await jobs.delete(doc.id);
      return;
    }
    const delay = doc.retryDelaySeconds * (doc.retryBackoff ? 2 ** doc.retryCount : 1);
    await jobs.update(doc.id, (cur) => ({
      ...(cur ?? doc),
      state: 'retry',
      owner: undefined,
      retryCount: doc.retryCount + 1,
      startAfter: new Date(now() + delay * 1000).toISOString(),
      lastError: message.slice(0, 500),
    }));
  }

  return {
    async send(name, data, opts: JobSendOptions = {}) {
      if (opts.singletonKey) {
        const waiting = await jobs.list({ name, singletonKey: opts.singletonKey });
        if (waiting.some((j) => j.state !== 'active')) return null;
      }
      const at = now();
      const doc: QueuedJobDocument = {
        id: randomUUID(),
        name,
        data,
        state: 'created',
        ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}),
        startAfter: new Date(at + (opts.startAfterSeconds ?? 0) * 1000).toISOString(),
        retryCount: 0,
        retryLimit: opts.retryLimit ?? DEFAULTS.retryLimit,
        retryDelaySeconds: opts.retryDelaySeconds ?? DEFAULTS.retryDelaySeconds,
        retryBackoff: opts.retryBackoff ?? DEFAULTS.retryBackoff,
        expireInSeconds: opts.expireInSeconds ?? DEFAULTS.expireInSeconds,
        createdAt: new Date(at).toISOString(),
      };
      await jobs.put(doc);
      wake();
      return doc.id;
    },
    async work(name, opts, handler) {
      workers.set(name, {
        concurrency: Math.max(1, opts.concurrency),
        handler: handler as JobHandler<object>,
      });
      stopped = false;
      if (!timer) {
        timer = setInterval(wake, options.pollMs ?? 250);
        timer.unref();
      }
      wake();
    },
    async pending(name) {
      return (await jobs.list({ name })).length;
    },
    async stop(timeoutMs) {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await pumping;
      const all = Promise.allSettled([...running.values()].map((r) => r.done));
      const late = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
      ]);
      if (late) {
        for (const r of running.values()) r.abort.abort();
        await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      }
    },
  };
}
