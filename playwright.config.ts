import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './e2e/support/chromium.mjs';

const executablePath = chromiumPath();

export default defineConfig({
  // One worker: on two cores it is faster than two, and browser timing is steadier. The engine projects, mostly
  // waiting, run side by side in a second run of their own (`npm test`, docs/development.md).
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  // failure-log: every failure printed again at the end of `npm test` (e2e/support/run-tests.mjs).
  reporter: [['list'], ['./e2e/support/failure-log.ts']],
  projects: [
    {
      name: 'unit',
      testDir: '.',
      testMatch: ['sw/**/*.test.ts', 'client/**/*.test.ts', 'server/**/*.test.ts', 'reference-server/**/*.test.ts', 'cli/**/*.test.ts', 'e2e/**/*.test.ts', 'soak/**/*.test.ts'],
    },
    {
      // The cross-engine scenarios in Chromium (e2e/engines/chromium.ts), for the browser table's Chromium column.
      name: 'chromium-engines',
      testDir: './e2e/engines',
      testMatch: 'chromium.spec.ts',
      timeout: 60_000,
    },
    {
      // WebKit through WebDriver (e2e/engines/webkit.ts), not through Playwright's browsers.
      name: 'webkit',
      testDir: './e2e/engines',
      testMatch: 'webkit.spec.ts',
      timeout: 60_000,
    },
    {
      // Firefox through WebDriver BiDi with Puppeteer (e2e/engines/firefox.ts).
      name: 'firefox',
      testDir: './e2e/engines',
      testMatch: 'firefox.spec.ts',
      timeout: 60_000,
    },
    {
      name: 'e2e',
      testDir: './e2e',
      testMatch: '**/*.spec.ts',
      // Relative patterns match anywhere in the absolute path: 'engines/**' alone also ignored a checkout in a folder named engines.
      testIgnore: '**/e2e/engines/**',
      use: {
        browserName: 'chromium',
        launchOptions: { executablePath, args: chromiumArgs },
      },
    },
  ],
});
