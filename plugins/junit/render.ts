// The junit plugin's texts: the counts for the summary and the failure message listing the first
// failing tests. Pure.

import type { JUnitCounts, JUnitReport } from './junit-xml.js';

/** "3 passed, 1 failed, 2 skipped". */
export function renderCounts(counts: JUnitCounts): string {
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}

/** "2 tests failed (…counts…):" then one `Suite.Class.test: message` line per listed failure and
 *  "and N more" for the rest, in at most `maxChars` characters (CodePipeline allows 5000). */
export function renderFailureMessage(report: JUnitReport, maxChars: number): string {
  const head = `${report.failed} test${report.failed === 1 ? '' : 's'} failed (${renderCounts(report)}):`;
  const lines = [head];
  let length = head.length;
  let listed = 0;
  for (const failure of report.failures) {
    const line = `${failure.name}: ${failure.message}`;
    const remainingAfter = report.failed - listed - 1;
    // Keep room for the "and N more" line that may follow.
    const reserve = remainingAfter > 0 ? `\nand ${remainingAfter} more`.length : 0;
    if (length + 1 + line.length + reserve > maxChars) break;
    lines.push(line);
    length += 1 + line.length;
    listed += 1;
  }
  const more = report.failed - listed;
  if (more > 0) lines.push(`and ${more} more`);
  const text = lines.join('\n');
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}
