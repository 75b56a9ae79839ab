// Two server instances behind a round-robin proxy, sharing one Redis, one
// REFRESH_SECRET and one SIGNING_KEY: the browser's refreshes land on both,
// and rotation, the grace window and reuse detection hold across them.
import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { startServer } from '../reference-server/app';
import { DEFAULT_SETTINGS } from '../reference-server/settings';
import { startRedisServer, type TestRedis } from '../test-support/redis-server';
import { startRoundRobinProxy, type RoundRobinProxy } from './support/round-robin-proxy';
import { apiFetch, expect, login, openApp, status, test, type RunningServer } from './support/fixtures';

// The default cookie when the browser is on http to a loopback host (out-of-band requests send that Origin too).
const COOKIE = 'broker_rt';
const WORKER_HEADERS = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };
const GRACE_SECONDS = 1;

let redis: TestRedis;
test.beforeAll(async () => {
  redis = await startRedisServer();
});
test.afterAll(async () => {
  await redis?.stop();
});

interface Cluster {
  instances: [RunningServer, RunningServer];
  proxy: RoundRobinProxy;
  close(): Promise<void>;
}

async function startCluster(): Promise<Cluster> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const shared = {
    store: 'redis' as const,
    redisUrl: redis.url,
    redisPrefix: `e2e:${randomUUID()}:`,
    refreshSecret: randomBytes(32).toString('base64url'),
    signingKey: JSON.stringify(await exportJWK(privateKey)),
    rotationGraceSeconds: GRACE_SECONDS,
    publicDir: 'public',
    // Bearer tokens: this test replays a refresh cookie from Node, which a DPoP-bound family would refuse for want of the key.
    dpop: 'optional' as const,
    dpopNonce: false,
    workerConfig: { ...DEFAULT_SETTINGS.workerConfig, dpop: false },
  };
  const instances: [RunningServer, RunningServer] = [await startServer(shared), await startServer(shared)];
  const proxy = await startRoundRobinProxy(instances.map((s) => s.url));
  return {
    instances,
    proxy,
    async close() {
      await proxy.close();
      await Promise.all(instances.map((s) => s.close()));
    },
  };
}

function refreshAt(url: string, token: string) {
  return fetch(`${url}/auth/refresh`, { method: 'POST', headers: { ...WORKER_HEADERS, origin: url, cookie: `${COOKIE}=${token}` } });
}

test('refreshes rotate on both instances; a replay of an old token on the other instance revokes the browser\'s session', async ({ context, page }) => {
  const cluster = await startCluster();
  const { proxy, instances } = cluster;
  try {
    await openApp(page, proxy);
    await login(page);
    // The demo's first status() tried a silent refresh without a cookie: count from here.
    const afterLogin = proxy.served.length;
    const refreshCookie = async () => (await context.cookies(`${proxy.url}/auth/refresh`)).find((c) => c.name === COOKIE)!.value;
    const seen = [await refreshCookie()];

    for (let i = 0; i < 4; i++) {
      await page.evaluate(() => window.tokenBroker.refresh());
      seen.push(await refreshCookie());
      // Every instance accepts the access token, whichever signed it.
      for (let j = 0; j < 2; j++) expect((await apiFetch(page, '/api/me')).body).toMatchObject({ sub: 'alice' });
    }
    expect(new Set(seen).size).toBe(seen.length);
    const refreshes = proxy.served.slice(afterLogin).filter((s) => s.path === '/auth/refresh');
    expect(refreshes.map((s) => s.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(refreshes.map((s) => s.upstream))).toEqual(new Set([0, 1]));
    expect(instances[0].stats.refresh + instances[1].stats.refresh).toBe(4);

    // The token the last refresh replaced, presented after the grace window to
    // the instance that did not rotate it: reuse, so the family is revoked.
    const rotatedBy = refreshes.at(-1)!.upstream;
    const other = instances[1 - rotatedBy]!;
    await page.waitForTimeout(GRACE_SECONDS * 1000 + 500);
    const replay = await refreshAt(other.url, seen.at(-2)!);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });

    // The browser's current token belongs to the revoked family: its next refresh is refused, on either instance.
    const err = await page.evaluate(() => window.tokenBroker.refresh().then(() => null, (e: { code: string }) => e.code));
    expect(err).toBe('not_authenticated');
    expect((await status(page)).authenticated).toBe(false);
    expect((await apiFetch(page, '/api/me')).status).toBe(401);
  } finally {
    await cluster.close();
  }
});

test('duplicate refreshes landing on both instances at once get the same successor, and the session lives on', async () => {
  const cluster = await startCluster();
  const [a, b] = cluster.instances;
  try {
    const login = await fetch(`${a.url}/auth/login`, {
      method: 'POST',
      headers: { ...WORKER_HEADERS, origin: a.url, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bob', password: 'builder' }),
    });
    const token = /^[^=]+=([^;]+)/.exec(login.headers.getSetCookie()[0]!)![1]!;
    const answers = await Promise.all([a, b, a, b].map((s) => refreshAt(s.url, token)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const successors = new Set(answers.map((r) => /^[^=]+=([^;]+)/.exec(r.headers.getSetCookie()[0]!)![1]));
    expect(successors.size).toBe(1);
    const [successor] = [...successors] as [string];
    expect((await refreshAt(b.url, successor)).status).toBe(200);
  } finally {
    await cluster.close();
  }
});
