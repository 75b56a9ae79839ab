// The Express example as an adopter would run it: the package packed with
// `npm pack`, installed into a copy of examples/express with express from the
// registry, and only the package's public exports in use. Real Chromium
// against it: the whole contract, end to end. The same install also proves the
// client entry point carries no server code.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installInto, startExampleServer, type ExampleServer } from './support/packed';

let appDir: string;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  appDir = mkdtempSync(join(tmpdir(), 'broker-adopter-'));
  cpSync('examples/express', appDir, { recursive: true });
  installInto(appDir);
});

const startExample = () => startExampleServer(appDir, { ACCESS_TOKEN_TTL: '4', REFRESH_BEFORE_EXPIRY: '1', ROTATION_GRACE_SECONDS: '1' });

const test2 = test.extend<{ example: ExampleServer }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern for the fixtures
  example: async ({}, use) => {
    const server = await startExample();
    await use(server);
    server.process.kill();
  },
});

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 15_000 });
}

const signIn = (page: Page) => page.evaluate(() => window.tokenBroker.login({ username: 'alice', password: 'wonderland' }));
const me = (page: Page) => page.evaluate(() => fetch('/api/me').then(async (r) => ({ status: r.status, body: await r.text() })));

/** Counts the worker's refreshes as they leave the browser. */
async function countRefreshes(context: BrowserContext): Promise<() => number> {
  let n = 0;
  await context.route('**/auth/refresh', (route) => {
    n++;
    return route.continue();
  });
  return () => n;
}

test2('login, an API call with the token, refresh on expiry, 100 concurrent requests causing exactly one refresh', async ({ context, page, example }) => {
  const refreshes = await countRefreshes(context);
  await open(page, example.url);
  expect((await signIn(page)).authenticated).toBe(true);
  expect(await me(page)).toEqual({ status: 200, body: JSON.stringify({ sub: 'alice', name: 'Alice' }) });
  const before = refreshes();
  await page.waitForTimeout(3_300);
  expect((await me(page)).status).toBe(200);
  expect(refreshes() - before).toBe(1);
  await page.waitForTimeout(3_300);
  const statuses = await page.evaluate(() => Promise.all(Array.from({ length: 100 }, () => fetch('/api/me').then((r) => r.status))));
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  expect(refreshes() - before).toBe(2);
});

test2('logout in one tab reaches the other, and the API then refuses', async ({ context, page, example }) => {
  await open(page, example.url);
  await signIn(page);
  const other = await context.newPage();
  await open(other, example.url);
  await expect(other.locator('#state')).toHaveText('signed in as Alice');
  await page.evaluate(() => window.tokenBroker.logout());
  await expect(other.locator('#state')).toHaveText('signed out');
  expect((await me(other)).status).toBe(401);
});

test2('reuse detection: an old refresh cookie replayed after rotation ends the family, and the browser\'s session with it', async ({ context, page, example }) => {
  await open(page, example.url);
  await signIn(page);
  const cookie = async () => (await context.cookies(`${example.url}/auth/refresh`)).find((c) => c.name.endsWith('broker_rt'))!;
  const stolen = await cookie();
  await page.waitForTimeout(3_300);
  expect((await me(page)).status).toBe(200); // the worker refreshed: the stolen cookie is rotated
  expect((await cookie()).value).not.toBe(stolen.value);
  await page.waitForTimeout(1_200); // past the grace window
  const replay = await fetch(`${example.url}/auth/refresh`, {
    method: 'POST',
    headers: { 'x-token-broker': '1', 'content-type': 'application/json', cookie: `${stolen.name}=${stolen.value}` },
    body: '{}',
  });
  expect(replay.status).toBe(401);
  // The browser's current token is revoked with the family: its next refresh fails and the session ends.
  await page.waitForTimeout(3_300);
  expect((await me(page)).status).toBe(401);
  expect((await page.evaluate(() => window.tokenBroker.status())).authenticated).toBe(false);
});

test('the client entry point, bundled for the browser from the installed package, carries no server code', async () => {
  const result = await build({
    stdin: { contents: "import { registerTokenBroker } from 'token-broker/client'; console.log(registerTokenBroker);", resolveDir: appDir },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  expect(code).toContain('registerTokenBroker');
  for (const server of ['better-sqlite3', 'ioredis', 'fastify', 'express', 'rate-limiter-flexible', 'createTokenBroker', 'node:crypto']) {
    expect(code, server).not.toContain(server);
  }
});

test('the store conformance suite runs from node:test against a store, as the README shows, and fails a broken store', async () => {
  const suite = (store: string) => `
import { test } from 'node:test';
import { memoryStore } from 'token-broker/server';
import { storeConformance } from 'token-broker/server/testing';

// Each case gets an empty backing; every open() of it is a connection to the same data.
function newBacking() {
  const shared = memoryStore();
  return { open: async () => (${store}), dispose: async () => {} };
}
for (const c of storeConformance(async () => newBacking())) test(c.name, c.run);
`;
  writeFileSync(join(appDir, 'good.test.mjs'), suite('{ ...shared, close: async () => {} }'));
  const good = execFileSync(process.execPath, ['--test', 'good.test.mjs'], { cwd: appDir, encoding: 'utf8' });
  expect(good).toMatch(/# pass (1\d|2\d)\b/);
  expect(good).toContain('# fail 0');
  // A store that forgets revocations must not pass.
  writeFileSync(
    join(appDir, 'broken.test.mjs'),
    suite('{ ...shared, revokeFamilyOf: async () => null, revokeUser: async () => 0, close: async () => {} }'),
  );
  let failed = '';
  try {
    execFileSync(process.execPath, ['--test', 'broken.test.mjs'], { cwd: appDir, encoding: 'utf8' });
  } catch (err) {
    failed = String((err as { stdout?: string }).stdout);
  }
  expect(failed).toMatch(/# fail [1-9]/);
});
