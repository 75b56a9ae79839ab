// Logins and logouts in the order the user asked for them, in Chromium, with a
// slow backing (an attack review's finding): a logout's answer clears the
// refresh cookie by name, so a login answered while it was on the wire lost
// its new cookie (the session looked signed in and died at its first
// refresh); and a logout asked for during a slow login was undone when the
// login landed (a shared computer's next user inherited the session). The
// worker's Web Lock waits at most 3 s, so it did not order them; the worker
// now queues them itself (sw/broker.ts, #inTurn).
import { memoryStore } from '../server/entries/index';
import type { RefreshStore } from '../server/entries/index';
import { expect, login, openApp, status, test } from './support/fixtures';

test.describe.configure({ timeout: 60_000 });

let slowRevoke = false;
let revokeMs = 4_000;
let slowLogin = false;
const marks: string[] = [];
/** Each family the server made, by user. */
const families: { userId: string; familyId: string }[] = [];
const inner = memoryStore();
const store: RefreshStore = Object.assign(Object.create(inner) as RefreshStore, {
  async revokeFamilyOf(...args: Parameters<RefreshStore['revokeFamilyOf']>) {
    // A slow backing (a Redis round trip under load): the answer leaves `revokeMs` after the request came.
    if (slowRevoke) await new Promise((r) => setTimeout(r, revokeMs));
    const user = await inner.revokeFamilyOf(...args);
    marks.push(`revoked ${Date.now()}`);
    return user;
  },
  async createFamily(...args: Parameters<RefreshStore['createFamily']>) {
    if (slowLogin) await new Promise((r) => setTimeout(r, 4_000));
    await inner.createFamily(...args);
    families.push({ userId: args[0].userId, familyId: args[0].familyId });
    marks.push(`login ${Date.now()}`); // the order the server saw, for a failing run's trace
  },
});
test.use({ serverParts: { store } });

test('a login asked for while a slow logout is on the wire keeps its refresh cookie, and its session refreshes', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  slowRevoke = true;
  const outcome = await page.evaluate(async () => {
    const out = window.tokenBroker.logout();
    await new Promise((r) => setTimeout(r, 200));
    // Signed out; the user signs in again (here as bob) while the logout is still on its way.
    const bob = await window.tokenBroker.login({ username: 'bob', password: 'builder' });
    await out;
    return bob;
  });
  slowRevoke = false;
  expect(outcome).toMatchObject({ authenticated: true, claims: { sub: 'bob' } });
  expect(await status(page)).toMatchObject({ authenticated: true, claims: { sub: 'bob' } });
  const cookies = (await context.cookies(`${server.url}/auth/refresh`)).filter((c) => c.name.endsWith('broker_rt'));
  // bob's login set his refresh cookie after alice's logout answer cleared hers.
  expect(cookies, 'the signed-in session has a refresh cookie').toHaveLength(1);
  expect(await page.evaluate(() => window.tokenBroker.refresh().catch((e: Error) => ({ error: e.message })))).toMatchObject({ authenticated: true, claims: { sub: 'bob' } });
});

test('sign in (slow), then sign out: signed out, the last thing the user asked for, once the login lands, and the login\'s session is revoked', async ({ page, server }) => {
  await openApp(page, server);
  families.length = 0;
  // Signed in as alice, so the logout carries a cookie and waits on the (slow) revoke.
  await login(page);
  slowLogin = true;
  slowRevoke = true;
  // Past the lock's 3 s wait by the login alone; the revokes (the login's of alice's session, the logout's) take 1 s.
  revokeMs = 1_000;
  try {
    const after = await page.evaluate(async () => {
      const signingIn = window.tokenBroker.login({ username: 'bob', password: 'builder' }).catch((e: Error) => ({ error: e.message }));
      await new Promise((r) => setTimeout(r, 500));
      // The user gives up waiting and signs out (a shared computer): the UI says signed out.
      const out = await window.tokenBroker.logout();
      await signingIn;
      return { out, now: await window.tokenBroker.status(), api: (await fetch('/api/me')).status };
    });
    expect(after.out).toMatchObject({ authenticated: false });
    expect(after, 'signed out is the last thing the user asked for').toMatchObject({ now: { authenticated: false }, api: 401 });
    // The logout went after the login and carried its cookie: no session is left live on the server.
    const live = () => Promise.all(families.map(async (f) => ((await inner.liveUntil(f.familyId, Date.now())) === null ? null : f.userId)));
    await expect.poll(live, { timeout: 10_000 }).toEqual(families.map(() => null));
    expect(families.map((f) => f.userId)).toEqual(['alice', 'bob']);
  } finally {
    slowLogin = slowRevoke = false;
    revokeMs = 4_000;
  }
});
