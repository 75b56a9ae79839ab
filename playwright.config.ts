import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './e2e/support/chromium.mjs';

const executablePath = chromiumPath();

export default defineConfig({
  // One worker: on two cores it is faster than two, and browser timing is steadier.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  reporter: process.env.CI ? [['list']] : [['list']],
  projects: [
    {
      name: 'unit',
      testDir: '.',
      testMatch: ['sw/**/*.test.ts', 'client/**/*.test.ts', 'server/**/*.test.ts', 'cli/**/*.test.ts', 'e2e/**/*.test.ts'],
    },
    {
      // WebKit through WebDriver (e2e/webkit/webkit.ts), not through Playwright's browsers.
      name: 'webkit',
      testDir: './e2e/webkit',
      testMatch: '**/*.spec.ts',
      timeout: 60_000,
    },
    {
      name: 'e2e',
      testDir: './e2e',
      testMatch: '**/*.spec.ts',
      testIgnore: 'webkit/**',
      use: {
        browserName: 'chromium',
        launchOptions: { executablePath, args: chromiumArgs },
      },
    },
  ],
});
