// The report for people (what failed first, each with its rule and fix) and
// for machines (--json). Pure.
import type { Finding, Report } from './findings';

const ORDER = { fail: 0, warn: 1, info: 2 } as const;
const MARK = { fail: 'FAIL', warn: 'WARN', info: 'INFO' } as const;

function finding(f: Finding): string {
  const lines = [`${MARK[f.level]} ${f.code}: ${f.message}`];
  if (f.rule) lines.push(`     rule: ${f.rule}`);
  if (f.fix) lines.push(`     fix:  ${f.fix}`);
  return lines.join('\n');
}

export function formatText(report: Report): string {
  const sorted = [...report.findings].sort((a, b) => ORDER[a.level] - ORDER[b.level]);
  const count = (level: Finding['level']) => report.findings.filter((f) => f.level === level).length;
  return [
    `token-broker doctor ${report.url}`,
    ...sorted.map(finding),
    ...report.passed.map((p) => `ok   ${p}`),
    `${count('fail')} failed, ${count('warn')} warnings, ${report.passed.length} passed: ${report.ok ? 'OK' : 'NOT OK'}`,
  ].join('\n');
}

export function formatJson(report: Report): string {
  return JSON.stringify(report, null, 2);
}
