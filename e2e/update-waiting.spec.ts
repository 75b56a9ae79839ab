// A new worker version waits while the old one is busy (continuous API traffic
// keeps it from going idle; Chromium's limit is 5 minutes). When it takes
// over, and for a tab that loads meanwhile, API calls must still carry the token.
// The soak sometimes sees tabs send their calls without the token around a takeover
// (docs/soak.md, "Known, not fixed"); the first test reproduces it about one run in five.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiFetch, expect, login, messageWorkerUnderSecond, openApp, stopWorkers, test } from './support/fixtures';

const site = mkdtempSync(join(tmpdir(), 'broker-site-'));
cpSync('public', site, { recursive: true });
test.use({ serverOptions: { publicDir: site } });

// KNOWN, NOT FIXED (docs/soak.md, "Known, not fixed"): about one run in five, the open tab's call right after the
// takeover reaches the server without the token (afterTakeover 401). Kept as the reproduction for the fix; skipped
// so that the build does not pass or fail by chance. Run it with --repeat-each 5.
test.fixme('a new version that waited behind busy tabs takes over with the session', async ({ context, page, server }) => {
  cpSync('public/sw-dpop.js', join(site, 'sw-dpop.js'));
  await openApp(page, server);
  await login(page);
  const others = [await context.newPage(), await context.newPage()];
  for (const p of others) await openApp(p, server);
  for (const p of [page, ...others]) {
    await p.evaluate(() => {
      for (let i = 0; i < 2; i++) {
        void (async () => {
          for (;;) {
            await fetch('/api/me').catch(() => undefined);
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
      }
    });
  }
  writeFileSync(join(site, 'sw-dpop.js'), `${readFileSync('public/sw-dpop.js', 'utf8')}\n// build 2\n`);
  await page.evaluate(async () => {
    const registration = (await navigator.serviceWorker.getRegistration())!;
    (window as unknown as { __old: unknown }).__old = registration.active;
    void registration.update();
  });
  // Installed: waiting behind the busy worker (usually), or already in charge when the traffic left a gap.
  await expect
    .poll(() =>
      page.evaluate(async () => {
        const registration = (await navigator.serviceWorker.getRegistration())!;
        return !!registration.waiting || registration.active !== (window as unknown as { __old: unknown }).__old;
      }),
    )
    .toBe(true);
  await page.waitForTimeout(1000);
  const third = await context.newPage();
  await openApp(third, server);
  const duringWait = await apiFetch(third, '/api/me');
  // The browser stopping the old worker lets a waiting version take over at once.
  await stopWorkers(context, page);
  await expect.poll(() => page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())!.waiting)).toBe(false);
  const afterTakeover = await apiFetch(page, '/api/me');
  expect({ duringWait: duringWait.status, afterTakeover: afterTakeover.status }).toEqual({ duringWait: 200, afterTakeover: 200 });
});

test('a worker that last saw the session signed out follows a sign-in made through another worker of the origin', async ({ context, page, server }) => {
  // Found by the soak: a new version that read "signed out" before it took over sent every API call without the token
  // after the old version had signed in again. Two registrations of the origin stand for the two versions here.
  cpSync('public/sw-dpop.js', join(site, 'sw-dpop.js'));
  await openApp(page, server);
  await login(page);
  await page.evaluate(() => window.tokenBroker.logout());
  const other = await context.newPage();
  // The second worker starts, and reads the record while it says signed out.
  expect(await messageWorkerUnderSecond(context, other, server, '/sw-dpop.js', { type: 'broker:status' })).toMatchObject({ session: { authenticated: false } });
  await login(page);
  expect((await apiFetch(other, '/api/me')).status).toBe(200);
});
