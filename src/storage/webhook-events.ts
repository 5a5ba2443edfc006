/**
 * Webhook deliveries already applied, by store and event id: stores deliver at least once, so the
 * same event may arrive again (a retry after a slow answer, a replay). Kept for a bounded time only.
 */

export interface WebhookEventLog {
  /**
   * Records that the job `jobId` applies this event. True when no job had claimed it, or when the
   * same job claims it again before it was marked applied (a retry after a crash must go on); false
   * for a second delivery's job, and once the event is applied.
   */
  claim(store: string, eventId: string, jobId: string, at?: Date): Promise<boolean>;
  /** Marks a claimed event applied: its job, run again, does nothing. */
  applied(store: string, eventId: string): Promise<void>;
  /** Whether a job has claimed this event (the receiver answers a replay without queueing it). */
  seen(store: string, eventId: string): Promise<boolean>;
  /** Forgets a claim (the job failed for good, so a new delivery may apply the event). */
  release(store: string, eventId: string): Promise<void>;
  /** Forgets the events claimed before `before`; returns how many. */
  prune(before: Date): Promise<number>;
}

/** How long a delivered event id is remembered: Adobe I/O Events retries for up to 24 hours. */
export const WEBHOOK_EVENT_RETENTION_HOURS = 48;
