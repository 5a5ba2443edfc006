import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { ChangeNotices } from '../types.js';
import type { PgLogger } from './logger.js';

export const NOTICE_CHANNEL = 'mic_changes';
const MAX_BACKOFF_MS = 10_000;

export interface PgChangeNotices extends ChangeNotices {
  close(): Promise<void>;
}

/**
 * Notices over LISTEN/NOTIFY: one dedicated connection listens on one channel, the payload is the
 * topic. A publish reaches this process through the same channel, so every subscriber hears it once.
 * When the listening connection drops it reconnects with backoff, then fires every subscribed topic
 * once: a notice means "look again", so a spurious one is harmless and a missed one is not.
 */
export async function createPgChangeNotices(options: {
  pool: pg.Pool;
  connection: pg.ClientConfig;
  logger: PgLogger;
  heartbeatMs?: number;
}): Promise<PgChangeNotices> {
  const { pool, logger } = options;
  const topics = new EventEmitter().setMaxListeners(0);
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let backoff = 250;

  async function listen(): Promise<void> {
    const next = new pg.Client({ ...options.connection, keepAlive: true });
    next.on('notification', (message) => {
      if (message.channel === NOTICE_CHANNEL && message.payload) topics.emit(message.payload);
    });
    next.on('error', (error) => lost(next, error));
    next.on('end', () => lost(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${NOTICE_CHANNEL}`);
    } catch (error) {
      next.removeAllListeners('end');
      await next.end().catch(() => undefined);
      throw error;
    }
    client = next;
  }

  function lost(which: pg.Client, error?: Error): void {
    if (closed || client !== which) return;
    client = undefined;
    logger.warn({ err: error }, 'Lost the PostgreSQL change-notice connection; reconnecting.');
    which.end().catch(() => undefined);
    schedule();
  }

  function schedule(): void {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      listen().then(
        () => {
          backoff = 250;
          logger.info({}, 'PostgreSQL change-notice connection restored.');
          for (const topic of topics.eventNames()) topics.emit(topic);
        },
        (error: unknown) => {
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          logger.warn(
            { err: error, retryInMs: backoff },
            'Could not reconnect the change-notice connection.',
          );
          schedule();
        },
      );
    }, backoff);
    retry.unref();
  }

  await listen();
  // A connection cut without a reset (a NAT or proxy dropping it) looks alive until it is used.
  const heartbeat = setInterval(() => {
    const current = client;
    current?.query('SELECT 1').catch((error: Error) => lost(current, error));
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  // Topics published while a NOTIFY is on its way go out together in the next one: a burst of
  // callbacks costs a few queries instead of one each, and a lone notice is not delayed.
  let waiting:
    | { topics: Set<string>; done: Promise<void>; sent: () => void; failed: (error: unknown) => void }
    | undefined;
  let sending = false;
  async function send(): Promise<void> {
    sending = true;
    while (waiting) {
      const batch = waiting;
      waiting = undefined;
      try {
        await pool.query('SELECT pg_notify($1, topic) FROM unnest($2::text[]) AS topic', [
          NOTICE_CHANNEL,
          [...batch.topics],
        ]);
        batch.sent();
      } catch (error) {
        batch.failed(error);
      }
    }
    sending = false;
  }

  return {
    publish(topic) {
      if (!waiting) {
        let sent!: () => void;
        let failed!: (error: unknown) => void;
        const done = new Promise<void>((resolve, reject) => {
          sent = resolve;
          failed = reject;
        });
        waiting = { topics: new Set(), done, sent, failed };
      }
      waiting.topics.add(topic);
      const { done } = waiting;
      if (!sending) void send();
      return done;
    },
    subscribe(topic, listener) {
      topics.on(topic, listener);
      return () => topics.off(topic, listener);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      clearInterval(heartbeat);
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    },
  };
}
