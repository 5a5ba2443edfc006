import type { Report } from './report.js';

const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // XML 1.0 forbids most control characters even when escaped.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');

/** JUnit XML (the common Jenkins/Surefire subset): one testcase per check; warnings go to system-out. */
export function toJunit(report: Report): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const cases = report.checks.map((c) => {
    const text = [
      c.detail,
      c.storeSaid && `Store said: ${c.storeSaid}`,
      c.cause && `Likely cause: ${c.cause}`,
      c.fix && `Fix: ${c.fix}`,
    ]
      .filter(Boolean)
      .join('\n');
    const open = `    <testcase classname="magento-contract.${esc(c.category)}" name="${esc(`${c.id}: ${c.name}`)}" time="${seconds(c.durationMs)}"`;
    if (c.status === 'pass') return `${open}/>`;
    const inner =
      c.status === 'fail'
        ? `      <failure message="${esc(c.storeSaid ?? c.detail)}" type="${esc(c.id)}">${esc(text)}</failure>`
        : c.status === 'skip'
          ? `      <skipped message="${esc(c.detail)}"/>`
          : `      <system-out>${esc(`WARNING: ${text}`)}</system-out>`;
    return `${open}>\n${inner}\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="magento-contract" tests="${report.checks.length}" failures="${report.summary.fail}" errors="0" skipped="${report.summary.skip}" time="${seconds(report.durationMs)}">
  <testsuite name="${esc(report.store)}" tests="${report.checks.length}" failures="${report.summary.fail}" errors="0" skipped="${report.summary.skip}" time="${seconds(report.durationMs)}" timestamp="${report.startedAt.replace(/\.\d+Z$/, '')}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}
