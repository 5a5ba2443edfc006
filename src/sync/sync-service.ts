import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { MagentoAuthError } from '../magento/errors.js';
import type { RecordStore } from '../storage/records.js';
import type { DocumentStore, Storage } from '../storage/types.js';
import { minusSeconds } from './cursor.js';
import { connectorFor } from './registry.js';
import { runSync, type SyncCheckpoint, type SyncCounts } from './run-sync.js';
import type { Transport } from './types.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface SyncJob {
  id: string;
  storeKey: string;
  entity: string;
  mode: 'initial' | 'incremental';
  since: string | null;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Saved after every page: an interrupted job resumes here. */
  checkpoint?: SyncCheckpoint;
  error?: string;
}

/** One entry of the status log (Oro: the integration status). */
export interface SyncRun {
  id: string;
  storeKey: string;
  entity: string;
  mode: 'initial' | 'incremental';
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  counts: SyncCounts;
  error?: string;
}

export interface SyncCursor {
  id: string;
  /** The newest `updated_at` a successful run processed. */
  newest: string | null;
  lastSuccessAt: string;
}

export interface Alert {
  id: string;
  storeKey: string;
  entity: string;
  message: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  resolvedAt?: string;
}

export interface SyncServiceOptions {
  storage: Storage;
  records: RecordStore;
  /** The signed transport of a linked store (throws when the store is not active). */
  transportFor: (storeKey: string) => Promise<Transport>;
  /** Entities to sync per store. */
  entities: string[];
  logger: Logger;
  channel?: string;
  pageSize?: number;
  /** Re-read rows this many seconds older than the last cursor: rows written during a run are not missed. */
  overlapSeconds?: number;
  /** Jobs running at once for one store. */
  perStoreConcurrency?: number;
  /** Seconds between runs per entity, for every active store; 0 or absent = not scheduled. */
  intervals?: Record<string, number>;
  /** Called when a store's token stopped working. */
  onTokenRefused?: (storeKey: string, error: MagentoAuthError) => void;
}

const RUNS_KEPT = 20;
const cursorId = (storeKey: string, entity: string) => `${storeKey}:${entity}`;

/**
 * The job queue (Oro: the message-queue processors of a sync): jobs persist in storage, so a
 * restart resumes an interrupted job from its last page; a scheduler queues incremental runs.
 */
export class SyncService {
  private readonly jobs: DocumentStore<SyncJob>;
  private readonly runs: DocumentStore<SyncRun>;
  private readonly cursors: DocumentStore<SyncCursor>;
  private readonly alertStore: DocumentStore<Alert>;
  private readonly running = new Map<string, { job: SyncJob; abort: AbortController; done: Promise<void> }>();
  private timer?: NodeJS.Timeout;
  private scheduler?: NodeJS.Timeout;
  private stopped = true;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: SyncServiceOptions) {
    this.jobs = options.storage.documents<SyncJob>('sync_jobs');
    this.runs = options.storage.documents<SyncRun>('sync_runs');
    this.cursors = options.storage.documents<SyncCursor>('sync_cursors');
    this.alertStore = options.storage.documents<Alert>('alerts');
  }

  /** Requeues jobs a crash left running, then works the queue. */
  async start(): Promise<void> {
    for (const job of await this.jobs.list()) {
      if (job.status === 'running') await this.jobs.update(job.id, (j) => ({ ...j!, status: 'queued' }));
    }
    this.stopped = false;
    this.timer = setInterval(() => void this.pump(), 200);
    this.timer.unref();
    // Per-store intervals may switch entities on, so the tick always runs; it is cheap.
    this.scheduler = setInterval(() => void this.scheduleDue(), 15_000);
    this.scheduler.unref();
    void this.pump();
  }

  /** Stops taking jobs and interrupts running ones; they stay "running" and resume on the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.scheduler);
    for (const { abort } of this.running.values()) abort.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /** Queues a run; an initial load when the entity was never synced. A queued or running job is reused. */
  async enqueue(storeKey: string, entity: string): Promise<SyncJob> {
    connectorFor(this.options.channel ?? 'magento2', entity);
    const pending = (await this.jobs.list()).find(
      (j) =>
        j.storeKey === storeKey && j.entity === entity && (j.status === 'queued' || j.status === 'running'),
    );
    if (pending) return pending;
    const cursor = await this.cursors.get(cursorId(storeKey, entity));
    const since = cursor?.newest ? minusSeconds(cursor.newest, this.options.overlapSeconds ?? 60) : null;
    const job: SyncJob = {
      id: randomUUID(),
      storeKey,
      entity,
      mode: since === null ? 'initial' : 'incremental',
      since,
      status: 'queued',
      createdAt: new Date().toISOString(),
    };
    await this.jobs.put(job);
    void this.pump();
    return job;
  }

  async enqueueStore(storeKey: string): Promise<SyncJob[]> {
    const jobs: SyncJob[] = [];
    for (const entity of this.options.entities) jobs.push(await this.enqueue(storeKey, entity));
    return jobs;
  }

  /** The scheduler's tick: queues every entity of every active store whose interval has passed. */
  async scheduleDue(now = Date.now()): Promise<SyncJob[]> {
    const queued: SyncJob[] = [];
    for (const r of await this.options.storage.integrations.list()) {
      if (r.status !== 'active') continue;
      const runs = await this.listRuns(r.consumerKey);
      for (const entity of this.options.entities) {
        const every = r.syncIntervals?.[entity] ?? this.options.intervals?.[entity] ?? 0;
        if (every <= 0) continue;
        // Counted from the last attempt, failed or not: a refused entity is not retried every tick.
        const last = runs.find((run) => run.entity === entity)?.finishedAt;
        if (!last || now - Date.parse(last) >= every * 1000)
          queued.push(await this.enqueue(r.consumerKey, entity));
      }
    }
    return queued;
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    if ((this.stopped && this.running.size === 0) || (await this.isIdle())) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async listJobs(): Promise<SyncJob[]> {
    return (await this.jobs.list()).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async listRuns(storeKey?: string): Promise<SyncRun[]> {
    return (await this.runs.list())
      .filter((r) => !storeKey || r.storeKey === storeKey)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  async alerts(options: { includeResolved?: boolean } = {}): Promise<Alert[]> {
    return (await this.alertStore.list())
      .filter((a) => options.includeResolved || !a.resolvedAt)
      .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
  }

  private async isIdle(): Promise<boolean> {
    return this.running.size === 0 && !(await this.jobs.list()).some((j) => j.status === 'queued');
  }

  private pumping = false;

  private async pump(): Promise<void> {
    if (this.pumping) return;
    if (this.stopped) {
      if (this.running.size === 0) this.idleWaiters.splice(0).forEach((w) => w());
      return;
    }
    this.pumping = true;
    try {
      const limit = this.options.perStoreConcurrency ?? 1;
      const queued = (await this.jobs.list())
        .filter((j) => j.status === 'queued')
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      for (const job of queued) {
        if (this.stopped) break;
        const busy = [...this.running.values()].filter((r) => r.job.storeKey === job.storeKey).length;
        if (busy >= limit || this.running.has(job.id)) continue;
        this.launch(job);
      }
      if (await this.isIdle()) this.idleWaiters.splice(0).forEach((w) => w());
    } finally {
      this.pumping = false;
    }
  }

  private launch(job: SyncJob): void {
    const abort = new AbortController();
    const done = this.execute(job, abort.signal)
      .catch((error: unknown) => {
        // Storage itself failed (closed, disk full): stop rather than relaunch the job in a loop.
        this.options.logger.error({ err: error, job: job.id }, 'sync queue stopped: storage failed');
        this.stopped = true;
        clearInterval(this.timer);
        clearInterval(this.scheduler);
      })
      .finally(() => {
        this.running.delete(job.id);
        void this.pump();
      });
    this.running.set(job.id, { job, abort, done });
  }

  private async execute(queued: SyncJob, signal: AbortSignal): Promise<void> {
    const { logger } = this.options;
    const startedAt = new Date().toISOString();
    let job = await this.jobs.update(queued.id, (j) => ({
      ...j!,
      status: 'running',
      startedAt: j!.startedAt ?? startedAt,
    }));
    const connector = connectorFor(this.options.channel ?? 'magento2', job.entity);
    try {
      const transport = await this.options.transportFor(job.storeKey);
      const result = await runSync({
        transport,
        connector,
        records: this.options.records,
        since: job.since,
        pageSize: this.options.pageSize,
        resume: job.checkpoint,
        signal,
        checkpoint: async (state) => {
          job = await this.jobs.update(job.id, (j) => ({ ...j!, checkpoint: state }));
        },
      });
      await this.finish(job, result.counts, null);
      await this.cursors.put({
        id: cursorId(job.storeKey, job.entity),
        newest: result.newest,
        lastSuccessAt: new Date().toISOString(),
      });
      await this.resolveAlert(job);
      logger.info({ store: job.storeKey, entity: job.entity, counts: result.counts }, 'sync run finished');
    } catch (error) {
      // Interrupted by stop(): left "running" with its checkpoint, resumed on the next start.
      if (signal.aborted) return;
      const status = (error as { status?: unknown }).status;
      const text = error instanceof Error ? error.message : String(error);
      const message = typeof status === 'number' ? `HTTP ${status}: ${text}` : text;
      if (error instanceof MagentoAuthError) this.options.onTokenRefused?.(job.storeKey, error);
      await this.finish(
        job,
        job.checkpoint?.counts ?? { read: 0, created: 0, updated: 0, unchanged: 0, failed: 0 },
        message,
      );
      await this.raiseAlert(job, message);
      logger.warn({ store: job.storeKey, entity: job.entity, error: message }, 'sync run failed');
    }
  }

  private async finish(job: SyncJob, counts: SyncCounts, error: string | null): Promise<void> {
    const finishedAt = new Date().toISOString();
    await this.jobs.update(job.id, (j) => ({
      ...j!,
      status: error ? 'failed' : 'done',
      finishedAt,
      ...(error ? { error } : {}),
    }));
    await this.runs.put({
      id: job.id,
      storeKey: job.storeKey,
      entity: job.entity,
      mode: job.mode,
      startedAt: job.startedAt ?? finishedAt,
      finishedAt,
      ok: !error,
      counts,
      ...(error ? { error } : {}),
    });
    // Keep the status log short: the newest runs per store and entity.
    const old = (await this.listRuns(job.storeKey)).filter((r) => r.entity === job.entity).slice(RUNS_KEPT);
    for (const r of old) await this.runs.delete(r.id);
    const finishedJobs = (await this.jobs.list()).filter(
      (j) =>
        j.storeKey === job.storeKey &&
        j.entity === job.entity &&
        (j.status === 'done' || j.status === 'failed'),
    );
    for (const j of finishedJobs.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(RUNS_KEPT))
      await this.jobs.delete(j.id);
  }

  private async raiseAlert(job: SyncJob, message: string): Promise<void> {
    const now = new Date().toISOString();
    await this.alertStore.update(cursorId(job.storeKey, job.entity), (a) =>
      a && !a.resolvedAt
        ? { ...a, message, lastSeen: now, count: a.count + 1 }
        : {
            id: cursorId(job.storeKey, job.entity),
            storeKey: job.storeKey,
            entity: job.entity,
            message,
            firstSeen: now,
            lastSeen: now,
            count: 1,
          },
    );
  }

  private async resolveAlert(job: SyncJob): Promise<void> {
    const id = cursorId(job.storeKey, job.entity);
    const alert = await this.alertStore.get(id);
    if (alert && !alert.resolvedAt)
      await this.alertStore.update(id, (a) => ({ ...a!, resolvedAt: new Date().toISOString() }));
  }
}
