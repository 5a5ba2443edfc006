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
  /**
   * Whether a job has claimed this event, and whether it is applied (the receiver answers a replay
   * without queueing it); undefined when no job has.
   */
  seen(store: string, eventId: string): Promise<'claimed' | 'applied' | undefined>;
  /** Forgets a claim (the job failed for good, so a new delivery may apply the event). */
  release(store: string, eventId: string): Promise<void>;
  /** Forgets the events claimed before `before` (only those whose id starts with `idPrefix`); returns how many. */
  prune(before: Date, idPrefix?: string): Promise<number>;
}

/** How long a delivered event id is remembered: Adobe I/O Events retries for up to 24 hours. */
export const WEBHOOK_EVENT_RETENTION_HOURS = 48;
/**
 * How long an id made from a body's hash (a Commerce webhook carries no id) is remembered: long enough
 * for its queued job and retries to find it applied, not so long that it fills the log.
 */
export const WEBHOOK_BODY_HASH_RETENTION_MINUTES = 10;
