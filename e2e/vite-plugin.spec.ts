// token-broker/vite from the packed package, as an adopter uses it: `vite build`
// emits the configured worker and its map; a `vite` dev server on a free
// loopback port serves it and proxies the token endpoints and API prefixes to
// the reference server, and a page in Chromium signs in through it; a bad
// configuration stops both with copy-sw's full message.
import { expect, test } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { startServer } from '../reference-server/app';
import { installInto } from './support/packed';
import { freePort } from '../test-support/free-port';

let project: string;
const CONFIG = { dpop: true, exposeClaims: ['sub', 'name'] };
const BAD_MESSAGE = 'token broker config: apiPrefixes[0] must be narrower than "/"';

test.beforeAll(() => {
  test.setTimeout(300_000);
  project = mkdtempSync(join(tmpdir(), 'broker-vite-plugin-'));
  installInto(project, { vite: '^7' });
  writeFileSync(
    join(project, 'vite.config.js'),
    `import { tokenBroker } from 'token-broker/vite';
export default {
  logLevel: 'info',
  plugins: [tokenBroker({ config: JSON.parse(process.env.BROKER_CONFIG), backend: process.env.BACKEND })],
  server: { host: '127.0.0.1', port: Number(process.env.PORT), strictPort: true },
};
`,
  );
  writeFileSync(join(project, 'index.html'), '<!doctype html><title>vite</title><script type="module" src="/main.js"></script>\n');
  writeFileSync(
    join(project, 'main.js'),
    "import { registerTokenBroker } from 'token-broker/client';\nwindow.broker = registerTokenBroker({ scriptURL: '/sw-dpop.js' });\n",
  );
});

const vite = (args: string[], env: Record<string, string>) =>
  spawn(join(project, 'node_modules/.bin/vite'), args, { cwd: project, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });


/** Resolves with the dev server's output once it listens, rejects with it when it exits first. */
function listening(child: ChildProcess, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const read = (chunk: Buffer) => {
      // Vite prints the port in bold: compare without the colour codes.
      out += stripVTControlCharacters(chunk.toString());
      if (out.includes(url)) resolve();
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`vite exited with ${code}: ${out}`)));
  });
}

test('vite build emits the configured worker (production build) and its map', () => {
  const run = spawnSync(join(project, 'node_modules/.bin/vite'), ['build'], { cwd: project, env: { ...process.env, BROKER_CONFIG: JSON.stringify(CONFIG) }, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  const worker = readFileSync(join(project, 'dist', 'sw-dpop.js'), 'utf8');
  expect(worker.split('\n')[0]).toBe(`self.tokenBrokerConfig??=${JSON.stringify(CONFIG)};`);
  expect(worker).toContain('dpop+jwt');
  expect(worker).not.toContain('is reserved for the token broker worker');
  expect(worker.trimEnd().endsWith('//# sourceMappingURL=sw-dpop.js.map')).toBe(true);
  expect(JSON.parse(readFileSync(join(project, 'dist', 'sw-dpop.js.map'), 'utf8')).mappings.startsWith(';')).toBe(true);
});

test('a bad configuration stops vite build and the dev server with the full message', async () => {
  const config = JSON.stringify({ apiPrefixes: ['/'] });
  const build = spawnSync(join(project, 'node_modules/.bin/vite'), ['build'], { cwd: project, env: { ...process.env, BROKER_CONFIG: config }, encoding: 'utf8' });
  expect(build.status).not.toBe(0);
  expect(build.stdout + build.stderr).toContain(BAD_MESSAGE);
  const port = await freePort();
  const dev = vite([], { BROKER_CONFIG: config, PORT: String(port) });
  await expect(listening(dev, `http://127.0.0.1:${port}`)).rejects.toThrow(BAD_MESSAGE);
});

test('vite dev serves the configured worker, no-cache; a page registers it, signs in through the proxy and calls the API', async ({ page }) => {
  test.setTimeout(120_000);
  const backend = await startServer();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dev = vite([], { BROKER_CONFIG: JSON.stringify(CONFIG), BACKEND: backend.url, PORT: String(port) });
  try {
    await listening(dev, url);
    const script = await fetch(`${url}/sw-dpop.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toBe('no-cache');
    expect(script.headers.get('content-type')).toContain('javascript');
    const text = await script.text();
    expect(text.split('\n')[0]).toBe(`self.tokenBrokerConfig??=${JSON.stringify(CONFIG)};`);
    // Dev serves the development build: full messages in the browser.
    expect(text).toContain('is reserved for the token broker worker');
    await page.goto(url);
    const result = await page.evaluate(async () => {
      const broker = await (window as unknown as { broker: Promise<{ login(c: object): Promise<{ authenticated: boolean; claims: object }> }> }).broker;
      const session = await broker.login({ username: 'alice', password: 'wonderland' });
      const me = await fetch('/api/me');
      return { session, status: me.status, body: (await me.json()) as unknown };
    });
    expect(result.session).toMatchObject({ authenticated: true, claims: { sub: 'alice' } });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ sub: 'alice' });
    expect(backend.stats.login).toBe(1);
    expect(backend.stats.apiOk).toBe(1);
  } finally {
    dev.kill();
    await backend.close();
  }
});
