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
      name: 'e2e',
      testDir: './e2e',
      testMatch: '**/*.spec.ts',
      use: {
        browserName: 'chromium',
        launchOptions: { executablePath, args: chromiumArgs },
      },
    },
  ],
});
