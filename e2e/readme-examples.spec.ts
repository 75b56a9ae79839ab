// The README's backend sections as an adopter copies them: each block marked
// `<!-- full-example: name -->` saved as server.js in a fresh app that installs
// the packed tarball and what the README's `npm install` line names, run on a
// free loopback port, and driven in Chromium: the worker registers, a sign-in,
// an API call that carries the token, a sign-out, and the API call refused.
import { expect, test } from '@playwright/test';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fullExamples } from './support/markdown';
import { installInto, startExampleServer } from './support/packed';

const examples = fullExamples(readFileSync('README.md', 'utf8'));
const devDependencies = (JSON.parse(readFileSync('package.json', 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;

// The front end the README asks for in public/: a page that loads the client from the installed package.
const page = `<!doctype html><script type="module">
import { registerTokenBroker } from '/client.js';
window.broker = await registerTokenBroker({ scriptURL: '/sw.js' });
</script>`;

test('the README marks an Express and a Fastify backend as full examples', () => {
  expect(examples.map((e) => e.name)).toEqual(['express', 'fastify']);
});

for (const example of examples) {
  test(`the README's ${example.name} example runs as printed: sign in, API call, sign out`, async ({ page: tab }) => {
    test.setTimeout(240_000);
    const dir = mkdtempSync(join(tmpdir(), `broker-readme-${example.name}-`));
    // The versions this repository tests against, which npm's cache holds.
    installInto(dir, Object.fromEntries(example.dependencies.map((name) => [name, devDependencies[name] ?? 'latest'])));
    writeFileSync(join(dir, 'server.js'), example.code);
    mkdirSync(join(dir, 'public'));
    writeFileSync(join(dir, 'public', 'index.html'), page);
    copyFileSync(join(dir, 'node_modules/token-broker/dist/client/index.js'), join(dir, 'public', 'client.js'));

    const server = await startExampleServer(dir);
    try {
      await tab.goto(server.url);
      await tab.waitForFunction(() => 'broker' in window, null, { timeout: 15_000 });
      expect(await tab.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}/sw.js`);
      expect(await tab.evaluate(() => fetch('/api/me').then((r) => r.status))).toBe(401);
      await tab.evaluate(() => (window as unknown as { broker: { login(c: object): Promise<unknown> } }).broker.login({ username: 'alice', password: 'wonderland' }));
      expect(await tab.evaluate(() => fetch('/api/me').then(async (r) => ({ status: r.status, body: await r.json() })))).toEqual({ status: 200, body: { sub: 'alice' } });
      await tab.evaluate(() => (window as unknown as { broker: { logout(): Promise<unknown> } }).broker.logout());
      expect(await tab.evaluate(() => fetch('/api/me').then((r) => r.status))).toBe(401);
    } finally {
      server.process.kill();
    }
  });
}
