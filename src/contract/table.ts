import { isNotRun, type CheckResult, type Report } from './report.js';

const MARK: Record<CheckResult['status'], string> = {
  pass: 'PASS',
  fail: 'FAIL',
  warn: 'WARN',
  skip: 'SKIP',
};

const COLOUR = { pass: 'green', fail: 'red', warn: 'yellow', skip: 'dim' } as const;

/** Styles a verdict (a terminal's colours); the default leaves it plain. */
export type Paint = (format: (typeof COLOUR)[keyof typeof COLOUR], text: string) => string;
const plain: Paint = (_format, text) => text;

/** One line per check as it finishes, then the explanation lines of anything not passing. */
export function formatResult(r: CheckResult, paint: Paint = plain): string {
  const lines = [
    `${paint(COLOUR[r.status], MARK[r.status])}  ${r.id.padEnd(30)} ${String(r.durationMs).padStart(6)} ms  ${r.detail}`,
  ];
  if (r.storeSaid && r.status !== 'pass') lines.push(`      store said:   ${r.storeSaid}`);
  if (r.cause) lines.push(`      likely cause: ${r.cause}`);
  if (r.fix) lines.push(`      fix:          ${r.fix}`);
  return lines.join('\n');
}

/** The checks not run (the store could not be reached) in one line, instead of one line each. */
export function formatNotRun(report: Report): string | undefined {
  const ids = report.checks.filter(isNotRun).map((c) => c.id);
  if (ids.length === 0) return undefined;
  return `NOT RUN  ${ids.length} checks, as the store could not be reached: ${ids.join(', ')}`;
}

export function formatSummary(report: Report): string {
  const s = report.summary;
  const notRun = report.checks.filter(isNotRun).length;
  const skipped = notRun ? `${s.skip - notRun} skipped, ${notRun} not run` : `${s.skip} skipped`;
  return `\n${report.checks.length} checks against ${report.store} in ${report.durationMs} ms: ${s.pass} passed, ${s.fail} failed, ${s.warn} warnings, ${skipped}.`;
}
