import lockfile from 'proper-lockfile';
import type { WarnLogger } from '../crypto.js';

/**
 * An inter-process lock on one journal (proper-lockfile: an atomic mkdir of `<target>.lock`, kept fresh
 * while held). Each batch holds it for a catch-up, one append and one fsync: milliseconds, so waiters poll
 * at short intervals rather than proper-lockfile's default of a second.
 */
export class FileLock {
  /** Times the lock was taken (tests, benchmarks). */
  acquisitions = 0;

  constructor(
    private readonly target: string,
    private readonly logger?: WarnLogger,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await lockfile.lock(this.target, {
      // The journal may not exist yet; the lock is a folder beside it.
      realpath: false,
      lockfilePath: `${this.target}.lock`,
      // A holder killed with -9 leaves the folder: after this long without a refresh, others take over.
      stale: 10_000,
      // Up to about 20 s of waiting, which covers a stale lock being taken over.
      retries: { retries: 800, factor: 1.2, minTimeout: 1, maxTimeout: 25, randomize: true },
      // The default throws from a timer (the process would crash). A compromised lock means this process
      // stalled past `stale`; the batch in hand still completes, so say it loudly.
      onCompromised: (error) =>
        this.logger?.warn({ err: error, lock: this.target }, 'Storage lock was taken over while held.'),
    });
    this.acquisitions++;
    try {
      return await work();
    } finally {
      await release().catch(() => undefined);
    }
  }
}
