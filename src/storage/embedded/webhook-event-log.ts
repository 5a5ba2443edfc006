import type { WebhookEventLog } from '../webhook-events.js';
import type { Journal } from './journal.js';

const EVENTS = 'webhook_events';
/** The journal keeps every entry in memory: past this many, the oldest are forgotten first. */
export const MAX_EMBEDDED_WEBHOOK_EVENTS = 100_000;

interface Claimed {
  jobId: string;
  at: string;
  applied?: true;
}

/**
 * Claimed event ids in the sync journal. The table keeps insertion order, so the cap drops the
 * earliest claims first.
 */
export function createEmbeddedWebhookEventLog(journal: Journal): WebhookEventLog {
  const table = () => journal.table(EVENTS);
  const keyOf = (store: string, eventId: string) => `${store}\n${eventId}`;
  return {
    claim(store, eventId, jobId, at = new Date()) {
      const key = keyOf(store, eventId);
      return journal.commit((tx) => {
        const current = table().get(key)?.value as Claimed | undefined;
        if (current) return current.jobId === jobId && !current.applied;
        tx.put(EVENTS, key, { jobId, at: at.toISOString() } satisfies Claimed);
        const excess = table().size - MAX_EMBEDDED_WEBHOOK_EVENTS;
        if (excess > 0) {
          let n = 0;
          for (const oldest of table().keys()) {
            if (n++ >= excess) break;
            tx.delete(EVENTS, oldest);
          }
        }
        return true;
      });
    },
    async applied(store, eventId) {
      const key = keyOf(store, eventId);
      await journal.commit((tx) => {
        const current = table().get(key)?.value as Claimed | undefined;
        if (current && !current.applied) tx.put(EVENTS, key, { ...current, applied: true });
      });
    },
    async seen(store, eventId) {
      await journal.fresh();
      const current = table().get(keyOf(store, eventId))?.value as Claimed | undefined;
      return current && (current.applied ? 'applied' : 'claimed');
    },
    async release(store, eventId) {
      await journal.commit((tx) => tx.delete(EVENTS, keyOf(store, eventId)));
    },
    prune(before, idPrefix) {
      const cutoff = before.toISOString();
      const matches = (key: string) => !idPrefix || key.startsWith(idPrefix, key.indexOf('\n') + 1);
      return journal.commit((tx) => {
        const old: string[] = [];
        // A full scan (at most the cap): a claim may carry an earlier time than one made before it.
        for (const [key, entry] of table())
          if ((entry.value as Claimed).at < cutoff && matches(key)) old.push(key);
        for (const key of old) tx.delete(EVENTS, key);
        return old.length;
      });
    },
  };
}
