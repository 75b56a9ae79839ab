// CI keeps the benchmark's hard limits: a short `npm run bench -- --quick` run,
// then its JSON report is checked. Latency ratios are reported, not asserted:
// they depend on the machine.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

// eslint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern for the fixtures
test('a short bench run: one refresh however many requests, no 401 in steady state, client within its size budget', async ({}, testInfo) => {
  test.setTimeout(180_000);
  const out = testInfo.outputPath('bench-quick.json');
  // npm test has built dist/ already.
  execFileSync(process.execPath, ['dist/bench/run.js', '--quick', '--out', out], { stdio: 'inherit' });
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    coalescing: { requests: number; refreshes: number }[];
    steadyState: { unauthorized: number; refreshes: number; expectedRefreshes: number };
    sizes: Record<'worker' | 'workerDpop' | 'client', { gzipBytes: number; maxGzipBytes: number | null; withinBudget: boolean }>;
    apiSequential: { brokerOverPassthrough: number };
  };
  for (const c of report.coalescing) {
    expect(c.requests).toBeGreaterThanOrEqual(100);
    expect(c.refreshes).toBe(1);
  }
  expect(report.steadyState.unauthorized).toBe(0);
  expect(Math.abs(report.steadyState.refreshes - report.steadyState.expectedRefreshes)).toBeLessThanOrEqual(1);
  expect(report.sizes.client.withinBudget).toBe(true);
  expect(report.apiSequential.brokerOverPassthrough).toBeGreaterThan(0);
});
