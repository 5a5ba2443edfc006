import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { MagentoAuthError } from '../magento/errors.js';
import type { RecordStore } from '../storage/records.js';
import type { Job } from '../storage/jobs.js';
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
  mode: SyncCheckpoint['mode'];
  since: string | null;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Saved after every page: an interrupted job resumes here. */
  checkpoint?: SyncCheckpoint;
  error?: string;
  /** The process running it now; a slice that finds another owner stops (it was taken over). */
  owner?: string;
}

/** One entry of the status log (Oro: the integration status). */
export interface SyncRun {
  id: string;
  storeKey: string;
  entity: string;
  mode: SyncCheckpoint['mode'];
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
  /** Sync jobs this process runs at once (any store; one per store and entity across all instances). */
  concurrency?: number;
  /**
   * A run works at most this long per job, then continues in a new job from its checkpoint, so a job
   * never outlives its expiry and a killed instance's run is taken over quickly. Default 60 s.
   */
  sliceSeconds?: number;
  /** Seconds between runs per entity, for every active store; 0 or absent = not scheduled. */
  intervals?: Record<string, number>;
  /** Called when a store's token stopped working. */
  onTokenRefused?: (storeKey: string, error: MagentoAuthError) => void;
}

const RUNS_KEPT = 20;
export const SYNC_QUEUE = 'sync';
const cursorId = (storeKey: string, entity: string) => `${storeKey}:${entity}`;
const ZERO: SyncCounts = { read: 0, created: 0, updated: 0, unchanged: 0, failed: 0 };

/**
 * Sync runs as durable jobs (Oro: the message-queue processors of a sync). A `SyncJob` document is
 * the run's state (status, checkpoint) that the dashboard shows; the storage's job queue decides who
 * runs it: one run per store and entity at a time across every instance, resumed from its last page
 * after a crash or a restart. A scheduler queues incremental runs.
 */
export class SyncService {
  private readonly jobs: DocumentStore<SyncJob>;
  private readonly runs: DocumentStore<SyncRun>;
  private readonly cursors: DocumentStore<SyncCursor>;
  private readonly alertStore: DocumentStore<Alert>;
  private readonly owner = randomUUID();
  private scheduler?: NodeJS.Timeout;
  /** Slices running in this process, so stop() can interrupt them. */
  private readonly active = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(private readonly options: SyncServiceOptions) {
    this.jobs = options.storage.documents<SyncJob>('sync_jobs');
    this.runs = options.storage.documents<SyncRun>('sync_runs');
    this.cursors = options.storage.documents<SyncCursor>('sync_cursors');
    this.alertStore = options.storage.documents<Alert>('alerts');
  }

  /** The entities this service syncs, in the channel's order (the dashboard lists these). */
  get entities(): readonly string[] {
    return this.options.entities;
  }

  private get sliceSeconds(): number {
    return this.options.sliceSeconds ?? 60;
  }

  /**
   * Works the sync queue in this process and starts the scheduler. Runs left open by a stop or a crash
   * are queued again (a run already queued or running elsewhere is not doubled: one per store and entity).
   */
  async start(): Promise<void> {
    await this.options.storage.queue.work<{ jobId: string }>(
      SYNC_QUEUE,
      { concurrency: this.options.concurrency ?? 2 },
      (job, signal) => this.track(job, signal),
    );
    for (const job of await this.jobs.list()) {
      if (job.status === 'queued' || job.status === 'running') await this.send(job);
    }
    // Per-store intervals may switch entities on, so the tick always runs; it is cheap.
    this.scheduler = setInterval(
      () =>
        void this.scheduleDue().catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'sync scheduler tick failed'),
        ),
      15_000,
    );
    this.scheduler.unref();
  }

  /** Stops the scheduler and interrupts running slices; their runs stay "running" and resume on the next start. */
  async stop(): Promise<void> {
    clearInterval(this.scheduler);
    for (const { abort } of this.active.values()) abort.abort();
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  private track(job: Job<{ jobId: string }>, signal: AbortSignal): Promise<void> {
    const abort = new AbortController();
    const done = this.handle(job, AbortSignal.any([signal, abort.signal])).finally(() =>
      this.active.delete(job.id),
    );
    this.active.set(job.id, { abort, done });
    return done;
  }

  /** Queues a run; an initial load when the entity was never synced. A queued or running job is reused. */
  async enqueue(storeKey: string, entity: string): Promise<SyncJob> {
    const { fullScan } = connectorFor(this.options.channel ?? 'magento2', entity);
    const open = await this.openJob(storeKey, entity);
    if (open) return open;
    // Without updated_at there is no cursor: every run of a full-scan connector reads everything.
    const cursor = fullScan ? undefined : await this.cursors.get(cursorId(storeKey, entity));
    const since = cursor?.newest ? minusSeconds(cursor.newest, this.options.overlapSeconds ?? 60) : null;
    const job: SyncJob = {
      id: randomUUID(),
      storeKey,
      entity,
      mode: fullScan ? 'full' : since === null ? 'initial' : 'incremental',
      since,
      status: 'queued',
      createdAt: new Date().toISOString(),
    };
    await this.jobs.put(job);
    const sent = await this.send(job);
    if (sent) return job;
    // Another instance queued the same run a moment ago: keep one.
    await this.jobs.delete(job.id);
    return (await this.openJob(storeKey, entity)) ?? job;
  }

  async enqueueStore(storeKey: string): Promise<SyncJob[]> {
    const jobs: SyncJob[] = [];
    for (const entity of this.options.entities) jobs.push(await this.enqueue(storeKey, entity));
    return jobs;
  }

  /** The scheduler's tick: queues every entity of every active store whose interval has passed. */
  async scheduleDue(now = Date.now()): Promise<SyncJob[]> {
    const queued: SyncJob[] = [];
    const active = await this.options.storage.integrations.list({ statuses: ['active'], secrets: false });
    for (const r of active) {
      const every = (entity: string) => r.syncIntervals?.[entity] ?? this.options.intervals?.[entity] ?? 0;
      // Nothing scheduled for this store: its runs need not be read (a query per store on PostgreSQL).
      if (this.options.entities.every((entity) => every(entity) <= 0)) continue;
      const runs = await this.listRuns(r.consumerKey);
      for (const entity of this.options.entities) {
        if (every(entity) <= 0) continue;
        // Counted from the last attempt, failed or not: a refused entity is not retried every tick.
        const last = runs.find((run) => run.entity === entity)?.finishedAt;
        if (!last || now - Date.parse(last) >= every(entity) * 1000)
          queued.push(await this.enqueue(r.consumerKey, entity));
      }
    }
    return queued;
  }

  /** Resolves when no run is queued or running (tests, the CLI). */
  async idle(pollMs = 100): Promise<void> {
    for (;;) {
      const open = (await this.jobs.list()).some((j) => j.status === 'queued' || j.status === 'running');
      if (!open) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  async listJobs(storeKey?: string): Promise<SyncJob[]> {
    return (await this.jobs.list(storeKey ? { storeKey } : undefined)).sort((a, b) =>
      b.createdAt.localeCompare(a.createdAt),
    );
  }

  async listRuns(storeKey?: string): Promise<SyncRun[]> {
    return (await this.runs.list(storeKey ? { storeKey } : undefined)).sort((a, b) =>
      b.startedAt.localeCompare(a.startedAt),
    );
  }

  async alerts(options: { includeResolved?: boolean } = {}): Promise<Alert[]> {
    return (await this.alertStore.list())
      .filter((a) => options.includeResolved || !a.resolvedAt)
      .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
  }

  private async openJob(storeKey: string, entity: string): Promise<SyncJob | undefined> {
    return (await this.jobs.list({ storeKey, entity })).find(
      (j) => j.status === 'queued' || j.status === 'running',
    );
  }

  private send(job: SyncJob): Promise<string | null> {
    return this.options.storage.queue.send(
      SYNC_QUEUE,
      { jobId: job.id },
      {
        singletonKey: cursorId(job.storeKey, job.entity),
        // A slice that outlives this was on an instance that died: another takes the run over.
        expireInSeconds: this.sliceSeconds * 3,
        retryLimit: 5,
        retryDelaySeconds: 2,
        retryBackoff: true,
      },
    );
  }

  /**
   * One slice of a run. A failed run is recorded and ends the job; when even that cannot be written
   * (storage down) the slice throws, the queue retries it later and goes on with other jobs.
   */
  private async handle(queued: Job<{ jobId: string }>, signal: AbortSignal): Promise<void> {
    const { logger } = this.options;
    const current = await this.jobs.get(queued.data.jobId);
    if (!current || current.status === 'done' || current.status === 'failed') return;
    const startedAt = new Date().toISOString();
    let job = await this.jobs.update(current.id, (j) => ({
      ...(j ?? current),
      status: 'running',
      owner: this.owner,
      startedAt: j?.startedAt ?? startedAt,
    }));
    const connector = connectorFor(this.options.channel ?? 'magento2', job.entity);
    const slice = new AbortController();
    const timer = setTimeout(() => slice.abort(), this.sliceSeconds * 1000);
    const stop = AbortSignal.any([signal, slice.signal]);
    let result: SyncCheckpoint;
    try {
      const transport = await this.options.transportFor(job.storeKey);
      result = await runSync({
        transport,
        connector,
        records: this.options.records,
        since: job.since,
        pageSize: this.options.pageSize,
        resume: job.checkpoint,
        signal: stop,
        checkpoint: async (state) => {
          job = await this.jobs.update(job.id, (j) => ({ ...(j ?? job), checkpoint: state }));
          // Taken over by another instance (this one was presumed dead): stop writing.
          if (job.owner !== this.owner) slice.abort();
        },
      });
    } catch (error) {
      if (stop.aborted) {
        // Interrupted (shutdown) or the slice ended: the job stays "running" with its checkpoint.
        if (slice.signal.aborted && !signal.aborted && job.owner === this.owner) await this.send(job);
        return;
      }
      const status = (error as { status?: unknown }).status;
      const text = error instanceof Error ? error.message : String(error);
      const message = typeof status === 'number' ? `HTTP ${status}: ${text}` : text;
      if (error instanceof MagentoAuthError) this.options.onTokenRefused?.(job.storeKey, error);
      await this.finish(job, job.checkpoint?.counts ?? ZERO, message);
      await this.raiseAlert(job, message);
      logger.warn({ store: job.storeKey, entity: job.entity, error: message }, 'sync run failed');
      return;
    } finally {
      clearTimeout(timer);
    }
    // The run itself succeeded: a failed write from here on throws, and the retried slice resumes
    // from the last checkpoint (nothing is read twice) to record it.
    await this.cursors.put({
      id: cursorId(job.storeKey, job.entity),
      newest: result.newest,
      lastSuccessAt: new Date().toISOString(),
    });
    await this.finish(job, result.counts, null);
    await this.resolveAlert(job);
    logger.info({ store: job.storeKey, entity: job.entity, counts: result.counts }, 'sync run finished');
  }

  private async finish(job: SyncJob, counts: SyncCounts, error: string | null): Promise<void> {
    const finishedAt = new Date().toISOString();
    // The run log first: a job marked done always has its run recorded.
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
    await this.jobs.update(job.id, (j) => ({
      ...(j ?? job),
      status: error ? 'failed' : 'done',
      finishedAt,
      owner: undefined,
      ...(error ? { error } : {}),
    }));
    // Retention: the newest runs and finished jobs per store and entity.
    const filter = { storeKey: job.storeKey, entity: job.entity };
    const old = (await this.runs.list(filter))
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
      .slice(RUNS_KEPT);
    for (const r of old) await this.runs.delete(r.id);
    const finishedJobs = (await this.jobs.list(filter)).filter(
      (j) => j.status === 'done' || j.status === 'failed',
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
      await this.alertStore.update(id, (a) => ({ ...(a ?? alert), resolvedAt: new Date().toISOString() }));
  }
}
