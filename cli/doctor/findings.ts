// What a check found, and the report they add up to. A finding's `code` is
// stable (scripts and CI match on it); `rule` names where the requirement comes
// from, `fix` what to change. Pure.

/** fail: breaks the worker, or a MUST of the rule named; warn: a SHOULD; info: worth knowing. */
export type Level = 'fail' | 'warn' | 'info';

export interface Finding {
  code: string;
  level: Level;
  message: string;
  rule: string;
  fix: string;
}

export interface Report {
  url: string;
  /** No failures (and, with `strict`, no warnings). */
  ok: boolean;
  findings: Finding[];
  /** What was checked and found right, one line each. */
  passed: string[];
}

/** Collects what the checks find, in the order they ran. */
export class Results {
  readonly findings: Finding[] = [];
  readonly passed: string[] = [];

  pass(message: string): void {
    this.passed.push(message);
  }

  add(level: Level, code: string, message: string, rule: string, fix: string): void {
    this.findings.push({ code, level, message, rule, fix });
  }

  fail(code: string, message: string, rule: string, fix: string): void {
    this.add('fail', code, message, rule, fix);
  }

  warn(code: string, message: string, rule: string, fix: string): void {
    this.add('warn', code, message, rule, fix);
  }

  info(code: string, message: string, rule = '', fix = ''): void {
    this.add('info', code, message, rule, fix);
  }

  report(url: string, strict = false): Report {
    const bad = this.findings.some((f) => f.level === 'fail' || (strict && f.level === 'warn'));
    return { url, ok: !bad, findings: this.findings, passed: this.passed };
  }
}

/** The exit status: 0 when nothing failed (warnings allowed), 1 when something failed. */
export function exitStatus(report: Report): 0 | 1 {
  return report.ok ? 0 : 1;
}
