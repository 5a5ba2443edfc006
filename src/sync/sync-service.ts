import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { MagentoAuthError } from '../magento/errors.js';
import { ACL_REFUSED } from '../magento/resource-probes.js';
import type { RecordStore } from '../storage/records.js';
import type { Job } from '../storage/jobs.js';
import type { DocumentStore, Storage } from '../storage/types.js';
import { minusSeconds } from './cursor.js';
import {
  canScanDeletions,
  freshScanState,
  runDeletionScan,
  type DeletionScanState,
} from './deletion-scan.js';
import { connectorFor } from './registry.js';
import { freshCheckpoint, runSync, type SyncCheckpoint, type SyncCounts } from './run-sync.js';
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
  /** The run ends with a deletion scan (it was due, or asked for). */
  scanDeletions?: boolean;
  /** The deletion scan's state, saved after every page; present once the sync part is done. */
  scan?: DeletionScanState;
  error?: string;
  /** The process running it now; a slice that finds another owner stops (it was taken over). */
  owner?: string;
  /** Set when its store was unlinked: a slice running it stops at its next page. */
  cancelledAt?: string;
  /** Set by a slice that stopped because another owner (or an unlink) took the job from it. */
  stoppedAt?: string;
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
  /**
   * The store refused the entity's ACL resource: not a failure to alert on, and not scheduled again
   * until the store is activated anew (its grants may have changed) or a run is asked for.
   */
  notGranted?: boolean;
}

export interface SyncCursor {
  id: string;
  /** The newest `updated_at` a successful run processed. */
  newest: string | null;
  lastSuccessAt: string;
  /** When the last deletion scan finished. */
  lastScanAt?: string;
}

/** A process working the sync queue, seen at its last scheduler tick (see `workerAlive`). */
export interface SyncWorker {
  id: string;
  seenAt: string;
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
  /**
   * An incremental run also scans for deletions when the entity's last scan is at least this old
   * (seconds); 0 or absent: only when asked (`enqueue(..., { scanDeletions: true })`).
   */
  deletionScanSeconds?: number;
  /** Called when a store's token stopped working. */
  onTokenRefused?: (storeKey: string, error: MagentoAuthError) => void;
}

const RUNS_KEPT = 20;
/** Scheduler ticks (and worker heartbeats) this often; a worker unseen for three ticks is gone. */
const TICK_MS = 15_000;
const WORKER_GONE_MS = 3 * TICK_MS;
export const SYNC_QUEUE = 'sync';
const cursorId = (storeKey: string, entity: string) => `${storeKey}:${entity}`;
const ZERO: SyncCounts = { read: 0, created: 0, updated: 0, unchanged: 0, failed: 0, deleted: 0 };

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
  private readonly workers: DocumentStore<SyncWorker>;
  private readonly owner = randomUUID();
  private scheduler?: NodeJS.Timeout;
  /** Slices running in this process, so stop() can interrupt them. */
  private readonly active = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(private readonly options: SyncServiceOptions) {
    this.jobs = options.storage.documents<SyncJob>('sync_jobs');
    this.runs = options.storage.documents<SyncRun>('sync_runs');
    this.cursors = options.storage.documents<SyncCursor>('sync_cursors');
    this.alertStore = options.storage.documents<Alert>('alerts');
    this.workers = options.storage.documents<SyncWorker>('sync_workers');
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
    await this.heartbeat();
    // Per-store intervals may switch entities on, so the tick always runs; it is cheap.
    this.scheduler = setInterval(
      () =>
        void this.heartbeat()
          .then(() => this.scheduleDue())
          .catch((error: unknown) => this.options.logger.warn({ err: error }, 'sync scheduler tick failed')),
      TICK_MS,
    );
    this.scheduler.unref();
  }

  /** Tells other processes (the sync command) that this one works the queue. */
  private heartbeat(): Promise<void> {
    return this.workers.put({ id: this.owner, seenAt: new Date().toISOString() });
  }

  /**
   * Whether a process (a running connector) works the sync queue: one seen in the last three scheduler
   * ticks. The sync command queues its run for it then; the embedded storage's records have one writer.
   */
  async workerAlive(now = Date.now()): Promise<boolean> {
    return (await this.workers.list()).some(
      (w) => w.id !== this.owner && now - Date.parse(w.seenAt) < WORKER_GONE_MS,
    );
  }

  /** Stops the scheduler and interrupts running slices; their runs stay "running" and resume on the next start. */
  async stop(): Promise<void> {
    const started = this.scheduler !== undefined;
    clearInterval(this.scheduler);
    this.scheduler = undefined;
    if (started)
      await this.workers
        .delete(this.owner)
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'could not sign off the sync worker'),
        );
    for (const { abort } of this.active.values()) abort.abort();
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  private track(job: Job<{ jobId: string }>, signal: AbortSignal, resend = true): Promise<void> {
    const abort = new AbortController();
    const done = this.handle(job, AbortSignal.any([signal, abort.signal]), resend).finally(() =>
      this.active.delete(job.id),
    );
    this.active.set(job.id, { abort, done });
    return done;
  }

  /**
   * Queues a run; an initial load when the entity was never synced. A queued or running job is reused
   * (asked for a deletion scan, it gains one). The run ends with a deletion scan when asked, or when
   * a run after the first finds the last scan older than `deletionScanSeconds`. `full` reads every row
   * whatever the cursor says; `queue: false` stores the job without queueing it, for `runHere`.
   */
  async enqueue(
    storeKey: string,
    entity: string,
    options: { scanDeletions?: boolean; full?: boolean; queue?: boolean } = {},
  ): Promise<SyncJob> {
    const connector = connectorFor(this.options.channel ?? 'magento2', entity);
    const { fullScan } = connector;
    const canScan = canScanDeletions(connector);
    const open = await this.openJob(storeKey, entity);
    if (open) {
      if (!options.scanDeletions || !canScan || open.scanDeletions) return open;
      return this.jobs.update(open.id, (j) => ({ ...(j ?? open), scanDeletions: true }));
    }
    const cursor = await this.cursors.get(cursorId(storeKey, entity));
    // Without updated_at there is no cursor to go on from: every run of a full-scan connector reads everything.
    const since =
      !fullScan && !options.full && cursor?.newest
        ? minusSeconds(cursor.newest, this.options.overlapSeconds ?? 60)
        : null;
    // Nothing local can be gone before the first load.
    const synced = fullScan || options.full ? cursor !== undefined : since !== null;
    const every = this.options.deletionScanSeconds ?? 0;
    const due =
      synced &&
      every > 0 &&
      (!cursor?.lastScanAt || Date.now() - Date.parse(cursor.lastScanAt) >= every * 1000);
    const job: SyncJob = {
      id: randomUUID(),
      storeKey,
      entity,
      mode: fullScan ? 'full' : since === null ? 'initial' : 'incremental',
      since,
      status: 'queued',
      createdAt: new Date().toISOString(),
      ...(canScan && (options.scanDeletions || due) ? { scanDeletions: true } : {}),
    };
    await this.jobs.put(job);
    if (options.queue === false) return job;
    const sent = await this.send(job);
    if (sent) return job;
    // Another instance queued the same run a moment ago: keep one.
    await this.jobs.delete(job.id);
    return (await this.openJob(storeKey, entity)) ?? job;
  }

  /**
   * Runs a stored job in this process, slice after slice, until it ends or another process takes it
   * over (a connector that started meanwhile resumes it from its checkpoint); the job as it then stands.
   */
  async runHere(jobId: string, signal?: AbortSignal): Promise<SyncJob | undefined> {
    for (let attempt = 0; ; attempt++) {
      const job = await this.jobs.get(jobId);
      if (!job || job.status === 'done' || job.status === 'failed') return job;
      if (attempt > 0 && job.owner !== this.owner) return job;
      signal?.throwIfAborted();
      // Not queued: the next slice runs here too, not in the queue.
      await this.track(
        { id: `here-${jobId}`, name: SYNC_QUEUE, data: { jobId }, retryCount: 0 },
        signal ?? new AbortController().signal,
        false,
      );
    }
  }

  /**
   * Stops and forgets a store's sync (an unlinked store): open jobs are cancelled, a slice running
   * elsewhere is waited for (up to `waitMs`) until it stops at its next page, then the store's jobs,
   * runs, cursors, alerts and synced records are deleted. Returns what went, and the runs that did not
   * confirm they stopped (their process may be gone).
   */
  async forgetStore(
    storeKey: string,
    options: { waitMs?: number } = {},
  ): Promise<{ cancelled: number; records: number; unconfirmed: string[] }> {
    const at = new Date().toISOString();
    const open = (await this.jobs.list({ storeKey })).filter(
      (j) => j.status === 'queued' || j.status === 'running',
    );
    for (const j of open)
      await this.jobs.update(j.id, (cur) => ({
        ...(cur ?? j),
        status: 'failed',
        error: 'The store was unlinked.',
        owner: undefined,
        finishedAt: at,
        cancelledAt: at,
      }));
    let waiting = open.filter((j) => j.status === 'running' && j.owner !== undefined);
    const until = Date.now() + (options.waitMs ?? 15_000);
    while (waiting.length > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const still: SyncJob[] = [];
      for (const j of waiting) {
        const cur = await this.jobs.get(j.id);
        // Stopped, or finished its last page before it saw the cancel.
        if (cur && !cur.stoppedAt && cur.finishedAt === at) still.push(j);
      }
      waiting = still;
    }
    for (const j of await this.jobs.list({ storeKey })) await this.jobs.delete(j.id);
    for (const r of await this.runs.list({ storeKey })) await this.runs.delete(r.id);
    for (const a of await this.alertStore.list({ storeKey })) await this.alertStore.delete(a.id);
    for (const c of await this.cursors.list())
      if (c.id.startsWith(`${storeKey}:`)) await this.cursors.delete(c.id);
    const records = await this.options.records.deleteStore(storeKey);
    return { cancelled: open.length, records, unconfirmed: waiting.map((j) => j.entity) };
  }

  async enqueueStore(storeKey: string, options: { scanDeletions?: boolean } = {}): Promise<SyncJob[]> {
    const jobs: SyncJob[] = [];
    for (const entity of this.options.entities) jobs.push(await this.enqueue(storeKey, entity, options));
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
        const lastRun = runs.find((run) => run.entity === entity);
        if (lastRun?.notGranted && !(r.activatedAt && r.activatedAt > lastRun.startedAt)) continue;
        const last = lastRun?.finishedAt;
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

  getJob(id: string): Promise<SyncJob | undefined> {
    return this.jobs.get(id);
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
  private async handle(queued: Job<{ jobId: string }>, signal: AbortSignal, resend = true): Promise<void> {
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
    let scanned = false;
    // The store was unlinked and its jobs deleted (an unlink that stopped waiting for this slice):
    // write nothing more, not even the job back.
    let gone = false;
    const forgotten = async () => {
      gone = !(await this.jobs.get(job.id));
      if (gone) slice.abort();
      return gone;
    };
    /** A page's checkpoint: written into the job, unless the job is gone; stops a slice that lost it. */
    const saveProgress = async (patch: Pick<SyncJob, 'checkpoint'> | Pick<SyncJob, 'scan'>) => {
      let missing = false;
      const saved = await this.jobs.update(job.id, (j) => {
        missing = !j;
        return { ...(j ?? job), ...patch };
      });
      if (missing) {
        // The write brought a deleted job back: take it out again.
        gone = true;
        slice.abort();
        await this.jobs.delete(job.id);
        return;
      }
      job = saved;
      // Taken over by another instance (this one was presumed dead): stop writing.
      if (job.owner !== this.owner) slice.abort();
    };
    let phase = 'sync';
    try {
      const transport = await this.options.transportFor(job.storeKey);
      // A job resumed in its deletion scan has done its sync part.
      result = job.scan
        ? (job.checkpoint ?? freshCheckpoint(job.since, connector.fullScan))
        : await runSync({
            transport,
            connector,
            records: this.options.records,
            since: job.since,
            pageSize: this.options.pageSize,
            resume: job.checkpoint,
            signal: stop,
            checkpoint: (state) => saveProgress({ checkpoint: state }),
          });
      // Read again: a scan may have been asked for while the sync part ran.
      job = (await this.jobs.get(job.id)) ?? job;
      if (job.scanDeletions && canScanDeletions(connector)) {
        phase = 'deletion scan';
        if (!job.scan) {
          // The sync part's cursor holds even if the scan fails: the next run need not re-read it.
          await this.saveCursor(job, { newest: result.newest });
          job = await this.jobs.update(job.id, (j) => ({ ...(j ?? job), scan: freshScanState() }));
        }
        const scan = await runDeletionScan({
          transport,
          connector,
          records: this.options.records,
          pageSize: this.options.pageSize,
          resume: job.scan,
          signal: stop,
          checkpoint: (state) => saveProgress({ scan: state }),
        });
        result = { ...result, counts: { ...result.counts, deleted: scan.deleted } };
        scanned = true;
      }
    } catch (error) {
      if (stop.aborted) {
        if (gone) return;
        // Interrupted (shutdown) or the slice ended: the job stays "running" with its checkpoint.
        if (resend && slice.signal.aborted && !signal.aborted && job.owner === this.owner)
          await this.send(job);
        // Tell an unlink waiting for this slice that it writes no more.
        if (job.owner !== this.owner && (await this.jobs.get(job.id)))
          await this.jobs.update(job.id, (j) => ({ ...(j ?? job), stoppedAt: new Date().toISOString() }));
        return;
      }
      const status = (error as { status?: unknown }).status;
      const text = error instanceof Error ? error.message : String(error);
      const message = `${phase === 'sync' ? '' : `${phase}: `}${typeof status === 'number' ? `HTTP ${status}: ${text}` : text}`;
      // The one ACL 401: this entity's resource is not granted; the token itself works.
      const notGranted = error instanceof MagentoAuthError && error.rawMessage === ACL_REFUSED;
      if (error instanceof MagentoAuthError && !notGranted)
        this.options.onTokenRefused?.(job.storeKey, error);
      if (await forgotten()) return;
      const counts = { ...ZERO, ...job.checkpoint?.counts, deleted: job.scan?.deleted ?? 0 };
      await this.finish(job, counts, message, notGranted);
      if (notGranted) {
        await this.resolveAlert(job);
        logger.info({ store: job.storeKey, entity: job.entity, error: message }, 'sync not granted');
        return;
      }
      await this.raiseAlert(job, message);
      logger.warn({ store: job.storeKey, entity: job.entity, error: message }, 'sync run failed');
      return;
    } finally {
      clearTimeout(timer);
    }
    // The run itself succeeded: a failed write from here on throws, and the retried slice resumes
    // from the last checkpoint (nothing is read twice) to record it.
    if (await forgotten()) return;
    await this.saveCursor(
      job,
      { newest: result.newest },
      scanned ? 'scanned' : job.mode !== 'incremental' ? 'read-all' : undefined,
    );
    await this.finish(job, { ...ZERO, ...result.counts }, null);
    await this.resolveAlert(job);
    logger.info({ store: job.storeKey, entity: job.entity, counts: result.counts }, 'sync run finished');
  }

  /**
   * `scanned`: a deletion scan just finished. `read-all`: an initial load or a full scan read every
   * row, so the first deletion scan is due an interval after it (not at once); later full scans do
   * not count, as they mark nothing deleted.
   */
  private async saveCursor(
    job: SyncJob,
    patch: { newest: string | null },
    scan?: 'scanned' | 'read-all',
  ): Promise<void> {
    const id = cursorId(job.storeKey, job.entity);
    const now = new Date().toISOString();
    await this.cursors.update(id, (c) => ({
      ...c,
      id,
      ...patch,
      lastSuccessAt: now,
      ...(scan === 'scanned' || (scan === 'read-all' && !c?.lastScanAt) ? { lastScanAt: now } : {}),
    }));
  }

  private async finish(
    job: SyncJob,
    counts: SyncCounts,
    error: string | null,
    notGranted = false,
  ): Promise<void> {
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
      ...(notGranted ? { notGranted } : {}),
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
