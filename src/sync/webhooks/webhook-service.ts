import type { Logger } from 'pino';
import { AppError } from '../../errors.js';
import type { Job } from '../../storage/jobs.js';
import { hashRecordData, type LocalRecord, type RecordStore } from '../../storage/records.js';
import { SerialQueue } from '../../storage/serial-queue.js';
import type { Storage } from '../../storage/types.js';
import {
  WEBHOOK_BODY_HASH_RETENTION_MINUTES,
  WEBHOOK_EVENT_RETENTION_HOURS,
} from '../../storage/webhook-events.js';
import { connectorFor } from '../registry.js';
import type { Connector, Transport } from '../types.js';
import { BODY_HASH_ID_PREFIX, type WebhookChange } from './events.js';

export const WEBHOOK_QUEUE = 'webhook';
/** Rows fetched per search call (the ids go into one `in` filter). */
const FETCH_CHUNK = 100;
const RETRY_LIMIT = 5;
/**
 * The queued job waits this long before any worker may take it: the instance that accepted the delivery
 * applies it at once, and the job is the durable record that runs only when that did not finish (the
 * process died, the store did not answer). Without the delay the queue's pickup (pg-boss polls every
 * 0.5 s) would be most of the latency.
 */
const BACKSTOP_DELAY_SECONDS = 5;
/**
 * Batches per store and entity under way at once: one fetches while another writes. Rows are written
 * only when not older than the stored ones, so two batches finishing out of order keep the newer row
 * (within one second, Magento's updated_at cannot tell two versions apart; the next poll settles that).
 */
const PARALLEL_BATCHES = 2;

export interface WebhookJobData {
  storeKey: string;
  eventId: string;
  entity: string;
  id: string;
  updatedAt?: string;
  /** A delete event (absent in jobs queued before deletes were applied: those are saves). */
  deleted?: true;
  /** Epoch ms when the delivery was accepted (for the latency figures). */
  receivedAt: number;
}

export type ReceiveOutcome = 'queued' | 'duplicate' | 'ignored';

/** One batch written for one store and entity. */
export interface AppliedBatch {
  storeKey: string;
  entity: string;
  /** The deliveries it answered (their event ids) and when each was accepted. */
  events: { eventId: string; receivedAt: number }[];
  /** Rows created or updated (rows unchanged or older than the stored ones are not written). */
  written: number;
  /** Records tombstoned: deletes whose row the store no longer has (tombstones already there not counted). */
  deleted: number;
  appliedAt: number;
}

export interface WebhookServiceOptions {
  storage: Storage;
  records: RecordStore;
  /** The signed transport of a linked store (throws when the store is not active). */
  transportFor: (storeKey: string) => Promise<Transport>;
  logger: Logger;
  channel?: string;
  /** Webhook jobs run at once in this process: they wait together on shared batches. Default 50. */
  concurrency?: number;
  onApplied?: (batch: AppliedBatch) => void;
  /** Reads again after the first attempt (default 5: about 31 s of backoff). */
  retryLimit?: number;
}

/**
 * The store has not committed the change the event announces yet (the row is older than the event, not
 * there at all for a save, or still there for a delete: `*_after` events come before the commit): read
 * again a moment later.
 */
export class StaleReadError extends AppError {
  override name = 'StaleReadError';
  declare readonly code: 'stale_read';
  constructor(message: string, options?: ErrorOptions) {
    super('stale_read', message, options);
  }
}

interface Batches {
  waiting: Waiter[];
  running: number;
  /** Batches reading or writing now (settled promises), and the last one with deletes. */
  writes: Set<Promise<void>>;
  alone?: Promise<void>;
}

interface Waiter {
  job: WebhookJobData;
  /** The job's last attempt: a delete whose row is still there then takes the row as it is. */
  lastAttempt: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Event-driven sync. A verified delivery becomes a durable job before the store gets its 2xx; the
 * process that accepted it then applies it at once, and the job (delayed) is the backstop. Applying
 * claims the event id (a second delivery of the same event finds it claimed and does nothing), asks
 * the store for the one changed row with the integration's signed client and writes it unless the
 * local copy is newer. Rows are fetched rather than taken from the payload: the row is then exactly
 * what a poll would store (same mapping, same hash), the payload's shape and completeness (webhook
 * payloads are configurable, and `*_save_after` fires before the store commits) do not matter, and a
 * delivery, even a verified one, can only make the connector read from the store it is linked to.
 * Changes for the same store and entity that arrive together share one search call and one write.
 * A delete event is applied the same way: the record is tombstoned only when the read finds the row
 * gone, so a delivery can never remove a row the store still has.
 */
export class WebhookService {
  private readonly batches = new Map<string, Batches>();
  /** Jobs being applied in this process (at once after acceptance, or by the queue), one run per job at a time. */
  private readonly inFlight = new SerialQueue();
  private pruner?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: WebhookServiceOptions) {}

  private get retryLimit(): number {
    return this.options.retryLimit ?? RETRY_LIMIT;
  }

  /** Queues a verified delivery; resolves once it is stored (then the store may get its 2xx). */
  async receive(storeKey: string, change: WebhookChange): Promise<ReceiveOutcome> {
    if (!change.entity || !change.id) return 'ignored';
    const { storage } = this.options;
    const seen = await storage.webhookEvents.seen(storeKey, change.eventId);
    // A Commerce webhook's id is its body's hash. A copy that comes while the first is still to be
    // applied is a retry (applying the first reads the row as it is then); the same bytes once the
    // first is applied are a new change (a row back to earlier values, a payload of ids only), applied
    // again: that only reads the row from the store once more, and never writes an older one.
    const again = seen === 'applied' && change.eventId.startsWith(BODY_HASH_ID_PREFIX);
    if (seen && !again) return 'duplicate';
    if (again) await storage.webhookEvents.release(storeKey, change.eventId);
    const data: WebhookJobData = {
      storeKey,
      eventId: change.eventId,
      entity: change.entity,
      id: change.id,
      ...(change.updatedAt ? { updatedAt: change.updatedAt } : {}),
      ...(change.deleted ? { deleted: true as const } : {}),
      receivedAt: Date.now(),
    };
    const jobId = await storage.queue.send(WEBHOOK_QUEUE, data, {
      // The same event waiting or running already: this delivery is a duplicate of it. Not for a new
      // change repeating an applied one's bytes: that one's job may still wait (then finds it applied).
      ...(again ? {} : { singletonKey: `${storeKey}:${change.eventId}` }),
      startAfterSeconds: BACKSTOP_DELAY_SECONDS,
      retryLimit: this.retryLimit,
      retryDelaySeconds: 1,
      retryBackoff: true,
      expireInSeconds: 60,
    });
    if (jobId === null) return 'duplicate';
    // Stored: from here the store may get its 2xx. Applied now, not after the queue's delay.
    if (!this.stopped)
      void this.run(jobId, data, 0).catch((error: unknown) =>
        this.options.logger.warn(
          { store: storeKey, event: change.eventId, err: error },
          `webhook change not applied yet; its queued job tries again in ${BACKSTOP_DELAY_SECONDS} s`,
        ),
      );
    return 'queued';
  }

  async start(): Promise<void> {
    await this.options.storage.queue.work<WebhookJobData>(
      WEBHOOK_QUEUE,
      { concurrency: this.options.concurrency ?? 50 },
      (job) => this.handle(job),
    );
    const events = this.options.storage.webhookEvents;
    const prune = () =>
      void Promise.all([
        events.prune(new Date(Date.now() - WEBHOOK_EVENT_RETENTION_HOURS * 3_600_000)),
        events.prune(
          new Date(Date.now() - WEBHOOK_BODY_HASH_RETENTION_MINUTES * 60_000),
          BODY_HASH_ID_PREFIX,
        ),
      ]).catch((error: unknown) => this.options.logger.warn({ err: error }, 'webhook event ids not pruned'));
    prune();
    this.pruner = setInterval(prune, 60_000);
    this.pruner.unref();
  }

  /** Stops applying at once (queued jobs stay for the next start) and waits for what runs. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruner);
    await this.inFlight.drained();
  }

  private async handle(job: Job<WebhookJobData>): Promise<void> {
    await this.run(job.id, job.data, job.retryCount);
  }

  /** Being applied at once in this process already, a job waits for that run; the claim then says it is done. */
  private run(jobId: string, data: WebhookJobData, retryCount: number): Promise<void> {
    return this.inFlight.run(jobId, () => this.claimAndApply(jobId, data, retryCount));
  }

  private async claimAndApply(jobId: string, data: WebhookJobData, retryCount: number): Promise<void> {
    const { storeKey, eventId } = data;
    const events = this.options.storage.webhookEvents;
    // Another delivery's job has it, or it is applied already.
    if (!(await events.claim(storeKey, eventId, jobId))) return;
    try {
      await this.apply(data, retryCount >= this.retryLimit);
    } catch (error) {
      // Given up for good: forget the claim, so a redelivery of this event is applied.
      if (retryCount >= this.retryLimit) await events.release(storeKey, eventId).catch(() => undefined);
      throw error;
    }
    await events.applied(storeKey, eventId);
  }

  /** Joins the next batch for the job's store and entity; resolves when its row is written. */
  private apply(job: WebhookJobData, lastAttempt: boolean): Promise<void> {
    const key = `${job.storeKey}\n${job.entity}`;
    let batch = this.batches.get(key);
    if (!batch) {
      batch = { waiting: [], running: 0, writes: new Set() };
      this.batches.set(key, batch);
    }
    const promise = new Promise<void>((resolve, reject) =>
      batch.waiting.push({ job, lastAttempt, resolve, reject }),
    );
    if (batch.running < PARALLEL_BATCHES) void this.drain(key, batch);
    return promise;
  }

  private async drain(key: string, batch: Batches): Promise<void> {
    batch.running++;
    try {
      while (batch.waiting.length > 0) {
        const waiters = batch.waiting.splice(0);
        try {
          await this.gated(batch, waiters.some((w) => w.job.deleted) ? 'alone' : 'shared', () =>
            this.write(waiters),
          );
        } catch (error) {
          for (const w of waiters) w.reject(error);
        }
      }
    } finally {
      batch.running--;
      if (batch.running === 0 && this.batches.get(key) === batch) this.batches.delete(key);
    }
  }

  /**
   * A batch with deletes runs alone: a batch that read a row before the delete's read and wrote it after
   * the tombstone would bring the deleted record back (there is no updated_at to tell them apart).
   */
  private gated(batch: Batches, mode: 'shared' | 'alone', run: () => Promise<void>): Promise<void> {
    const before = mode === 'alone' ? [...batch.writes] : batch.alone ? [batch.alone] : [];
    const running = Promise.all(before).then(run);
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    batch.writes.add(settled);
    void settled.then(() => batch.writes.delete(settled));
    if (mode === 'alone') batch.alone = settled;
    return running;
  }

  private async write(waiters: Waiter[]): Promise<void> {
    const first = waiters[0]!.job;
    const connector: Connector = connectorFor(this.options.channel ?? 'magento2', first.entity);
    if (!connector.fetchByIds) throw new Error(`The ${first.entity} connector cannot fetch rows by id.`);
    const started = performance.now();
    const transport = await this.options.transportFor(first.storeKey);
    const ids = [...new Set(waiters.map((w) => w.job.id))];
    const fetched = new Map<string, LocalRecord>();
    for (let i = 0; i < ids.length; i += FETCH_CHUNK) {
      for (const raw of await connector.fetchByIds(transport, ids.slice(i, i + FETCH_CHUNK))) {
        const mapped = connector.toRecord(raw);
        fetched.set(mapped.id, { ...mapped, hash: hashRecordData(mapped.data) });
      }
    }
    const rows = [...fetched.values()];
    const fetchedAt = performance.now();
    const outcomes = await this.options.records.upsert(first.storeKey, first.entity, rows, {
      ifNotOlder: true,
    });
    // The read decides between a save and a delete of one id: a row there is kept, a row gone is tombstoned.
    const gone = [
      ...new Set(waiters.filter((w) => w.job.deleted && !fetched.has(w.job.id)).map((w) => w.job.id)),
    ];
    const deleted =
      gone.length > 0
        ? await this.options.records.markDeleted(first.storeKey, first.entity, gone, new Date().toISOString())
        : 0;
    const appliedAt = Date.now();
    const done: Waiter[] = [];
    let stale = 0;
    for (const w of waiters) {
      const row = fetched.get(w.job.id);
      if (w.job.deleted) {
        // Still there: `*_delete_after` comes before the commit, so read again; on the last attempt the
        // row is simply there (re-created, or the delete rolled back) and was written above as a save's.
        if (!row || w.lastAttempt) done.push(w);
        else {
          stale++;
          w.reject(
            new StaleReadError(
              `The store still has the ${first.entity} row ${w.job.id} (its deletion not committed yet?).`,
            ),
          );
        }
      } else if (!row) {
        // Not there: a new row whose save event came before the commit (or one deleted since, which its
        // own delete event tombstones): read again (up to the job's retries) rather than mark it applied.
        w.reject(
          new StaleReadError(`The store has no ${first.entity} row ${w.job.id} (not committed yet?).`),
        );
      } else if (w.job.updatedAt && row.updatedAt < w.job.updatedAt) {
        stale++;
        w.reject(
          new StaleReadError(`The store still has the ${first.entity} row ${row.id} before this change.`),
        );
      } else done.push(w);
    }
    const batch: AppliedBatch = {
      storeKey: first.storeKey,
      entity: first.entity,
      events: done.map((w) => ({ eventId: w.job.eventId, receivedAt: w.job.receivedAt })),
      written: outcomes.filter((o) => o !== 'unchanged').length,
      deleted,
      appliedAt,
    };
    this.options.logger.info(
      {
        store: batch.storeKey,
        entity: batch.entity,
        events: batch.events.map((e) => e.eventId),
        written: batch.written,
        deleted: batch.deleted,
        // Rows the store does not have (a save's not committed yet, or a delete's); stale: rows older
        // than their save event or still there for a delete event, read again later.
        missing: ids.length - rows.length,
        stale,
        fetchMs: Math.round(fetchedAt - started),
        writeMs: Math.round(performance.now() - fetchedAt),
        // From the delivery's acceptance to now: the time the job waited in the queue, then ran.
        sinceAcceptedMs: appliedAt - Math.min(...waiters.map((w) => w.job.receivedAt)),
      },
      'webhook changes applied',
    );
    this.options.onApplied?.(batch);
    for (const w of done) w.resolve();
  }
}
