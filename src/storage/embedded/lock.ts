import { readFileSync, statSync, writeFileSync } from 'node:fs';
import lockfile from 'proper-lockfile';
import type { WarnLogger } from '../crypto.js';

/** How long a holder that saw a waiter stays away after letting the lock go. */
const YIELD_MS = 15;
/** A waiting note older than this is from a waiter that has gone (or got the lock). */
const WAITING_FRESH_MS = 100;

/**
 * An inter-process lock on one journal (proper-lockfile: an atomic mkdir of `<target>.lock`, kept fresh
 * while held). A writer holds it for milliseconds (see Journal.flush), so waiters poll at short
 * intervals rather than proper-lockfile's default of a second.
 */
export class FileLock {
  /** Times the lock was taken (tests, benchmarks). */
  acquisitions = 0;
  /** Not before this time (ms) does this process take the lock again: another one is waiting. */
  private yieldUntil = 0;

  constructor(
    private readonly target: string,
    private readonly logger?: WarnLogger,
  ) {}

  /**
   * A process waiting for the lock writes its pid here at every try. Without it, a process writing
   * in a tight loop takes the lock again within microseconds of letting it go, and a waiter polling
   * every few milliseconds may wait a minute (a CLI beside a busy server).
   */
  private get waitingFile(): string {
    return `${this.target}.waiting`;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const wait = this.yieldUntil - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const release = await this.acquire();
    this.acquisitions++;
    try {
      return await work();
    } finally {
      try {
        release();
      } catch {
        // Already released or taken over (onCompromised said so).
      }
      if (this.anotherWaits()) this.yieldUntil = Date.now() + YIELD_MS;
    }
  }

  /** Whether another process tried for the lock in the last moments. */
  private anotherWaits(): boolean {
    try {
      if (Date.now() - statSync(this.waitingFile).mtimeMs > WAITING_FRESH_MS) return false;
      return readFileSync(this.waitingFile, 'utf8') !== String(process.pid);
    } catch {
      return false;
    }
  }

  private noteWaiting(): void {
    try {
      writeFileSync(this.waitingFile, String(process.pid));
    } catch {
      // Only fairness is lost: the lock itself is unaffected.
    }
  }

  /**
   * Up to about 20 s of waiting, which covers a stale lock being taken over. Each attempt is
   * synchronous (an mkdir and a stat: microseconds), since under load each trip through the thread
   * pool waits a whole turn of the event loop; the waits between attempts are not.
   */
  private acquire(): Promise<() => void> | (() => void) {
    const deadline = Date.now() + 20_000;
    const attempt = () =>
      lockfile.lockSync(this.target, {
        // The journal may not exist yet; the lock is a folder beside it.
        realpath: false,
        lockfilePath: `${this.target}.lock`,
        // A holder killed with -9 leaves the folder: after this long without a refresh, others take over.
        stale: 10_000,
        // The default throws from a timer (the process would crash). A compromised lock means this
        // process stalled past `stale`; the batch in hand still completes, so say it loudly.
        onCompromised: (error) =>
          this.logger?.warn({ err: error, lock: this.target }, 'Storage lock was taken over while held.'),
      });
    const locked = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ELOCKED';
    try {
      return attempt();
    } catch (error) {
      if (!locked(error)) throw error;
    }
    return (async () => {
      // Polls at most every few ms: the holder leaves a gap of YIELD_MS once it sees a waiter.
      for (let wait = 1; ; wait = Math.min(4, wait * 1.2)) {
        this.noteWaiting();
        await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random())));
        try {
          return attempt();
        } catch (error) {
          if (!locked(error) || Date.now() > deadline) throw error;
        }
      }
    })();
  }
}
