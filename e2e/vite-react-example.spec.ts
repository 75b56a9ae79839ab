// The Vite + React example as an adopter would build it: the packed tarball
// installed, the worker put into the build by `token-broker copy-sw` (the
// example's build script), `vite build`, and the Express example as the
// backend serving that build. Then token-broker/react in real Chromium, under
// StrictMode, and under server-side rendering in Node.
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installInto, startExampleServer } from './support/packed';

let root: string;

test.beforeAll(() => {
  test.setTimeout(300_000);
  root = mkdtempSync(join(tmpdir(), 'broker-vite-'));
  cpSync('examples/express', join(root, 'server'), { recursive: true });
  cpSync('examples/vite-react', join(root, 'web'), { recursive: true });
  installInto(join(root, 'server'));
  installInto(join(root, 'web'));
  execFileSync('npm', ['run', 'build'], { cwd: join(root, 'web'), stdio: 'ignore' });
});

const startBackend = () => startExampleServer(join(root, 'server'), { STATIC_DIR: join(root, 'web', 'dist') });

test('copy-sw put the worker, with its configuration fixed in it, into the build', () => {
  const worker = readFileSync(join(root, 'web', 'dist', 'sw.js'), 'utf8');
  expect(worker.split('\n')[0]).toBe('self.tokenBrokerConfig??={"exposeClaims":["sub","name"]};');
  expect(worker).toContain('token-broker');
});

test('the React app under StrictMode: sign in through the UI, then a sign-out in another tab reaches it', async ({ context, page }) => {
  const backend = await startBackend();
  try {
    const open = async (tab: Page) => {
      await tab.goto(backend.url);
      await expect(tab.getByRole('button', { name: /Sign (in|out)/ })).toBeVisible({ timeout: 15_000 });
    };
    await open(page);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('greeting')).toHaveText('Signed in as Alice');
    expect(await page.evaluate(() => fetch('/api/me').then((r) => r.json()))).toEqual({ sub: 'alice', name: 'Alice' });
    const other = await context.newPage();
    await open(other);
    await expect(other.getByTestId('greeting')).toHaveText('Signed in as Alice');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    expect(await page.evaluate(() => fetch('/api/me').then((r) => r.status))).toBe(401);
  } finally {
    backend.process.kill();
  }
});

test('under server-side rendering the provider renders without a browser, and useSession() says it is starting', () => {
  const script = `
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { TokenBrokerProvider, useSession } from 'token-broker/react';
function Status() {
  const { broker, session, error } = useSession();
  return createElement('p', null, broker || session || error ? 'unexpected' : 'starting');
}
console.log(renderToString(createElement(TokenBrokerProvider, null, createElement(Status))));
`;
  writeFileSync(join(root, 'web', 'ssr.mjs'), script);
  expect(execFileSync(process.execPath, ['ssr.mjs'], { cwd: join(root, 'web'), encoding: 'utf8' }).trim()).toBe('<p>starting</p>');
});
