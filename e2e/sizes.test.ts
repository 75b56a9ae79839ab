// The size budgets of the shipped browser files, gzip, on every run: a worker
// script is fetched and evaluated again each time the browser restarts it.
import { expect, test } from '@playwright/test';
import { BUDGETS, measureSizes } from '../bench/size';

// npm test has built the files already.
for (const [name, result] of Object.entries(measureSizes())) {
  test(`${result.file} is within its budget (${name})`, () => {
    expect(result.gzipBytes).toBeLessThanOrEqual(BUDGETS[name as keyof typeof BUDGETS].maxGzipBytes!);
  });
}
