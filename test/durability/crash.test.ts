import { describe, expect, it } from '@jest/globals';
import { crashRun, sigtermRun, type Findings } from '../../src/bench/crash.js';

/**
 * The connector as its own process (embedded storage) against the canned store: killed with -9 in the
 * middle of a stream of activations, and stopped with SIGTERM during exchanges. A 200 to the store's
 * callback is a promise: after a restart every acknowledged activation ends active, or failed with a
 * reason that sends the admin back to Activate/Reauthorize. A SIGTERM loses no token the store issued.
 * kill -9 can: a store commits the access token before its answer reaches the connector, and Magento
 * never issues it again, so a kill in that window leaves the integration failed (Reauthorize), never
 * stuck or silently active without a token.
 */

/** Count and the first few cases of one kind of finding: a readable diff when it fails. */
const few = <T>(list: T[]) => ({ count: list.length, first: list.slice(0, 3) });
const none = { count: 0, first: [] };

/** One diff over every kind of finding, so a failure shows all of them at once. */
function expectNoFindings(f: Findings, options: { killed?: boolean } = {}) {
  expect({
    missing: few(f.missing),
    unfinished: few(f.unfinished),
    failedWithoutAdvice: few(f.failedWithoutAdvice),
    tokenMismatch: few(f.tokenMismatch),
    lost: few(options.killed ? f.lost.filter((l) => l.status !== 'failed') : f.lost),
  }).toEqual({ missing: none, unfinished: none, failedWithoutAdvice: none, tokenMismatch: none, lost: none });
}

describe('connector killed during activations (kill -9, 3 times; npm run bench -- crash does 50)', () => {
  it('keeps every acknowledged callback and finishes or fails each after a restart', async () => {
    const report = await crashRun({
      rounds: 3,
      killAfterMs: [300, 1200],
      tokenLatencyMs: 150,
      recoveryMs: 6000,
    });

    // The harness did what it says: three kills, nothing of the killed process left, callbacks acknowledged.
    expect(report.rounds).toHaveLength(3);
    expect(report.rounds.flatMap((r) => r.survivors)).toEqual([]);
    expect(report.acknowledged.length).toBeGreaterThan(0);

    // The data opened and parsed after every kill and after the last recovery.
    expect(report.rounds.filter((r) => !r.readable).map((r) => r.error)).toEqual([]);
    expect(report.finalError).toBeUndefined();
    expectNoFindings(report.findings, { killed: true });
    // Earlier rounds' callbacks were finished when the next kill came (counts per round).
    expect(report.rounds.map(({ problems: { lost: _lost, ...rest } }) => rest)).toEqual(
      report.rounds.map(() => ({
        missing: 0,
        unfinished: 0,
        failedWithoutAdvice: 0,
        tokenMismatch: 0,
      })),
    );
  }, 90_000);
});

describe('connector stopped with SIGTERM during exchanges', () => {
  it('exits 0 within 10 s and loses nothing acknowledged', async () => {
    const report = await sigtermRun({
      tokenLatencyMs: 400,
      streamMs: 1200,
      exitBoundMs: 10_000,
      recoveryMs: 6000,
    });

    expect(report.acknowledged.length).toBeGreaterThan(0);
    // Exchanges were running when the signal came (otherwise this would test nothing).
    expect(report.exchangesInFlightAtSignal).toBeGreaterThan(0);
    expect(report.exit).toEqual({ code: 0, signal: null });
    expect(report.exitMs).toBeLessThan(10_000);

    expect(report.error).toBeUndefined();
    expectNoFindings(report.findings);
  }, 40_000);
});
