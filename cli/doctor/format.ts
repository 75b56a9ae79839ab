// The report for people (what failed first, each with its rule and fix) and
// for machines (--json). Pure.
import type { Finding, Report } from './findings';

const ORDER = { fail: 0, warn: 1, info: 2 } as const;
const MARK = { fail: 'FAIL', warn: 'WARN', info: 'INFO' } as const;

/**
 * Messages quote what the deployment answered (headers, bodies): a control
 * character there must not reach the terminal. An escape sequence could
 * recolour or rewrite the report, a newline forge an "ok" line, a bidi
 * override reorder one; each is shown as its code instead.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escaped);
}

function finding(f: Finding): string {
  const lines = [`${MARK[f.level]} ${f.code}: ${printable(f.message)}`];
  if (f.rule) lines.push(`     rule: ${printable(f.rule)}`);
  if (f.fix) lines.push(`     fix:  ${printable(f.fix)}`);
  return lines.join('\n');
}

export function formatText(report: Report): string {
  const sorted = [...report.findings].sort((a, b) => ORDER[a.level] - ORDER[b.level]);
  const count = (level: Finding['level']) => report.findings.filter((f) => f.level === level).length;
  return [
    `token-broker doctor ${printable(report.url)}`,
    ...sorted.map(finding),
    ...report.passed.map((p) => `ok   ${printable(p)}`),
    `${count('fail')} failed, ${count('warn')} warnings, ${report.passed.length} passed: ${report.ok ? 'OK' : 'NOT OK'}`,
  ].join('\n');
}

/**
 * `JSON.stringify` escapes C0 controls inside strings but not C1, bidi
 * overrides or line separators, which reach a terminal that shows the JSON.
 * Escaped the same way, the output is the same JSON to a parser.
 */
export function formatJson(report: Report): string {
  return JSON.stringify(report, null, 2).replace(UNPRINTABLE, (c) => (c === '\n' ? c : escaped(c)));
}
