// A reporter that appends each unexpected outcome (its title and the start of
// its error) to the file named by BROKER_FAILURE_LOG, so that `npm test`
// (e2e/support/run-tests.mjs) can print every failure of both its runs last:
// a CI log keeps only its tail, and the engine run comes after the one that failed.
import { appendFileSync } from 'node:fs';
import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

const MAX_ERROR_LINES = 30;

export default class FailureLog implements Reporter {
  private readonly file = process.env.BROKER_FAILURE_LOG;

  printsToStdio(): boolean {
    return false;
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    if (!this.file || test.outcome() !== 'unexpected') return;
    const where = `${test.location.file.replace(`${process.cwd()}/`, '')}:${test.location.line}`;
    const title = [test.parent.project()?.name ?? '', ...test.titlePath().slice(3)].filter(Boolean).join(' › ');
    const error = (result.errors.map((e) => e.stack ?? e.message ?? String(e.value)).join('\n') || `status ${result.status}`)
      .split('\n')
      .slice(0, MAX_ERROR_LINES)
      .join('\n');
    // eslint-disable-next-line no-control-regex -- the error carries the terminal's colour codes
    appendFileSync(this.file, `✘ [${title}] (${where}, ${result.status}, ${result.duration} ms)\n${error.replace(/\u001b\[[0-9;]*m/g, '')}\n\n`);
  }
}
