// DPoP in real Chromium: the worker signs a proof with a non-extractable key
// for every request, and a token copied out of the browser is useless.
import type { BrowserContext } from '@playwright/test';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { newDpopKey, signProof } from '../test-support/dpop-client';
import { apiFetch, expect, login, openApp, readBrokerRecord, recordSessionEvents, sessionEvents, status, stopWorkers, test } from './support/fixtures';

interface Seen {
  url: string;
  status: number;
  authorization: string | null;
  dpop: string | null;
  tokenType: string | null;
  /** The answer asked for the request again with a nonce. */
  nonceChallenge: boolean;
}

/** Records the worker's requests to the API and token endpoints as they leave the browser, with their answers. */
async function recordWire(context: BrowserContext): Promise<Seen[]> {
  const seen: Seen[] = [];
  await context.route(/\/(api|auth)\//, async (route) => {
    const headers = await route.request().allHeaders();
    const response = await route.fetch();
    const text = await response.text();
    let tokenType: string | null = null;
    try {
      tokenType = (JSON.parse(text) as { token_type?: string }).token_type ?? null;
    } catch {
      // not JSON
    }
    const nonceChallenge = response.status() >= 400 && `${text} ${response.headers()['www-authenticate'] ?? ''}`.includes('use_dpop_nonce');
    seen.push({
      url: route.request().url(),
      status: response.status(),
      authorization: headers['authorization'] ?? null,
      dpop: headers['dpop'] ?? null,
      tokenType,
      nonceChallenge,
    });
    await route.fulfill({ response, body: text });
  });
  return seen;
}

test('login, API calls and logout go with DPoP proofs; the key lives non-extractable in IndexedDB until logout', async ({ context, page, server }) => {
  const wire = await recordWire(context);
  await openApp(page, server);
  await login(page);
  const me = await apiFetch(page, '/api/me');
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ sub: 'alice' });
  const echo = await apiFetch(page, '/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  expect(echo.body).toMatchObject({ body: { a: 1 } });

  const loginCall = wire.find((r) => r.url.endsWith('/auth/login'))!;
  expect(loginCall.tokenType).toBe('DPoP');
  expect(decodeJwt(loginCall.dpop!)).toMatchObject({ htm: 'POST', htu: `${server.url}/auth/login` });
  expect(decodeJwt(loginCall.dpop!).ath).toBeUndefined();
  const apiCalls = wire.filter((r) => r.url.includes('/api/'));
  expect(apiCalls).toHaveLength(2);
  for (const call of apiCalls) {
    expect(call.authorization).toMatch(/^DPoP /);
    expect(decodeJwt(call.dpop!)).toMatchObject({ htu: call.url, ath: expect.any(String) });
  }
  expect(decodeJwt(apiCalls[1]!.dpop!).htm).toBe('POST');
  expect(await readBrokerRecord(page, 'dpop-key')).toMatchObject({ privateKey: { cryptoKey: 'private', extractable: false } });

  await page.evaluate(() => window.tokenBroker.logout());
  expect(await readBrokerRecord(page, 'dpop-key')).toBeNull();
  expect((await apiFetch(page, '/api/me')).status).toBe(401);
});

test('a new login makes a new key', async ({ context, page, server }) => {
  const wire = await recordWire(context);
  await openApp(page, server);
  await login(page);
  await login(page, 'bob', 'builder');
  const keys = wire.filter((r) => r.url.endsWith('/auth/login')).map((r) => JSON.stringify(decodeProtectedHeader(r.dpop!).jwk));
  expect(keys).toHaveLength(2);
  expect(keys[0]).not.toBe(keys[1]);
  expect((await apiFetch(page, '/api/me')).body).toMatchObject({ sub: 'bob' });
});

test.describe('with a short access token lifetime', () => {
  // Counts refreshes with the token shared through the record, as written before memory became the default.
  test.use({ serverOptions: { accessTokenTtl: 4, workerConfig: { refreshBeforeExpiry: 1, persist: 'indexeddb' } } });

  test('a refresh after expiry is signed with the same key, and the new token works', async ({ context, page, server }) => {
    const wire = await recordWire(context);
    await openApp(page, server);
    await login(page);
    await page.waitForTimeout(3_200);
    for (let i = 0; i < 3; i++) expect((await apiFetch(page, '/api/me')).status).toBe(200);
    expect(server.stats.refresh).toBe(1);
    expect(server.stats.apiUnauthorized).toBe(0);
    const [loginCall, refreshCall] = [wire.find((r) => r.url.endsWith('/auth/login'))!, [...wire].reverse().find((r) => r.url.endsWith('/auth/refresh'))!];
    expect(refreshCall.tokenType).toBe('DPoP');
    expect(decodeProtectedHeader(refreshCall.dpop!).jwk).toEqual(decodeProtectedHeader(loginCall.dpop!).jwk);
  });

  test('100 concurrent requests from 3 tabs with an expired token cause exactly one refresh', async ({ context, page, server }) => {
    await openApp(page, server);
    await login(page);
    const tabs = [page, await context.newPage(), await context.newPage()];
    for (const tab of tabs.slice(1)) await openApp(tab, server);
    await page.waitForTimeout(4_200);
    const results = await Promise.all(
      tabs.map((tab, i) => tab.evaluate((n) => Promise.all(Array.from({ length: n }, () => fetch('/api/me').then((r) => r.status))), [34, 33, 33][i]!)),
    );
    expect(results.flat()).toHaveLength(100);
    expect(results.flat().filter((s) => s !== 200)).toEqual([]);
    expect(server.stats.refresh).toBe(1);
    // Every one of the 100 proofs had its own jti: none was refused as a replay.
    expect(server.stats.apiUnauthorized).toBe(0);
  });
});

test.describe('opt-in persist indexeddb', () => {
  test.use({ serverOptions: { workerConfig: { persist: 'indexeddb' } } });

  test('after the browser stops the worker, the key and the token come back from IndexedDB: no refresh needed', async ({ context, page, server }) => {
    await openApp(page, server);
    await login(page);
    await stopWorkers(context, page);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    expect(server.stats.refresh).toBe(0);
  });
});

test.describe('by default (persist memory)', () => {
  test('after the browser stops the worker, the key comes back from IndexedDB and one refresh restores the token', async ({ context, page, server }) => {
    await openApp(page, server);
    await login(page);
    await stopWorkers(context, page);
    // The token went with the worker; the key did not, so the bound refresh still works.
    expect((await status(page)).authenticated).toBe(true);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    expect(server.stats.refresh).toBe(1);
  });
});

test.describe('an attacker with script in the page', () => {
  test('plants an extractable key pair of its own as the worker\'s key: the worker never signs with it, drops it and ends the session (key_replaced)', async ({
    context,
    page,
    server,
  }) => {
    await openApp(page, server);
    await login(page);
    const other = await context.newPage();
    await openApp(other, server);
    await recordSessionEvents(page);
    await recordSessionEvents(other);
    // IndexedDB is shared with the page: replace the worker's pair with one whose private half exports.
    const planted = await page.evaluate(async () => {
      const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
      await new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('token-broker');
        open.onsuccess = () => {
          const tx = open.result.transaction('records', 'readwrite');
          tx.objectStore('records').put({ privateKey: pair.privateKey, publicKey: pair.publicKey }, 'dpop-key');
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        };
      });
      return crypto.subtle.exportKey('jwk', pair.publicKey);
    });
    const plantedJkt = await calculateJwkThumbprint(planted as JWK);
    expect(await readBrokerRecord(page, 'dpop-key')).toMatchObject({ privateKey: { extractable: true } });
    const wire = await recordWire(context);
    // The worker reads the key again when it starts.
    await stopWorkers(context, page);
    const me = await apiFetch(page, '/api/me');
    expect(me.status).toBe(401);
    // No proof the server saw was signed with the planted key.
    const thumbprints = await Promise.all(wire.filter((w) => w.dpop).map((w) => calculateJwkThumbprint(decodeProtectedHeader(w.dpop!).jwk!)));
    expect(thumbprints).not.toContain(plantedJkt);
    for (const tab of [page, other]) await expect.poll(() => sessionEvents(tab)).toContain('key_replaced');
    expect(await status(page)).toMatchObject({ authenticated: false });
    // The planted pair is gone. (A key the worker made itself may be there: it is bound to no login.)
    const left = (await readBrokerRecord(page, 'dpop-key')) as { privateKey?: { extractable?: boolean } } | null;
    expect(left?.privateKey?.extractable ?? false).toBe(false);
    expect(server.stats.keyReplaced).toBe(1);
    // A new sign-in works, with a key of the worker's own.
    await login(page);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    expect(await readBrokerRecord(page, 'dpop-key')).toMatchObject({ privateKey: { extractable: false } });
  });

  test.describe('with the opt-in persist indexeddb', () => {
    test.use({ serverOptions: { workerConfig: { persist: 'indexeddb' } } });

  test('reads the token out of IndexedDB, and it is useless outside the browser: as Bearer, or with a proof of its own key', async ({ page, server }) => {
    await openApp(page, server);
    await login(page);
    const record = (await readBrokerRecord(page)) as { token: { accessToken: string; tokenType: string } };
    const stolen = record.token.accessToken;
    expect(record.token.tokenType).toBe('DPoP');
    const url = `${server.url}/api/me`;

    const asBearer = await fetch(url, { headers: { authorization: `Bearer ${stolen}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toContain('invalid_token');

    const own = await newDpopKey();
    // With the server's current nonce, which every response announces.
    const nonce = asBearer.headers.get('dpop-nonce')!;
    const withOwnKey = await fetch(url, {
      headers: { authorization: `DPoP ${stolen}`, dpop: await signProof(own, { htm: 'GET', htu: url, accessToken: stolen, nonce }) },
    });
    expect(withOwnKey.status).toBe(401);
    expect(await withOwnKey.json()).toMatchObject({ error: 'invalid_dpop_proof', message: expect.stringContaining('another key') });
    // The browser's own session carries on.
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
  });
  });

  test('captures a real proof off the wire, and replaying it from outside fails: used once, and only for its own URL', async ({ context, page, server }) => {
    const wire = await recordWire(context);
    await openApp(page, server);
    await login(page);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    const call = wire.find((r) => r.url.endsWith('/api/me'))!;
    const headers = { authorization: call.authorization!, dpop: call.dpop! };

    const replay = await fetch(`${server.url}/api/me`, { headers });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'invalid_dpop_proof', message: expect.stringContaining('jti') });
    const elsewhere = await fetch(`${server.url}/api/headers`, { headers });
    expect(elsewhere.status).toBe(401);
    expect(await elsewhere.json()).toMatchObject({ message: expect.stringContaining('htu') });
    const otherMethod = await fetch(`${server.url}/api/echo`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
    expect(otherMethod.status).toBe(401);
  });

  test('calls the refresh endpoint from a page the worker does not control: refused without the key, and the session lives on', async ({
    context,
    page,
    server,
  }) => {
    await openApp(page, server);
    await login(page);
    await context.route('**/outside/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>outside</title>' }));
    const rogue = await context.newPage();
    const cdp = await context.newCDPSession(rogue);
    await cdp.send('Network.enable');
    await cdp.send('Network.setBypassServiceWorker', { bypass: true });
    await rogue.goto(`${server.url}/outside/`);
    const res = await rogue.evaluate(async () => {
      const r = await fetch('/auth/refresh', { method: 'POST', headers: { 'x-token-broker': '1', 'content-type': 'application/json' }, body: '{}' });
      return { status: r.status, body: (await r.json()) as unknown, controlled: !!navigator.serviceWorker.controller };
    });
    expect(res.controlled).toBe(false);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_dpop_proof' });
    expect(server.stats.refresh).toBe(0);
    // Nothing was rotated or revoked: the worker, which has the key, still refreshes.
    expect((await page.evaluate(() => window.tokenBroker.refresh())).authenticated).toBe(true);
    expect(server.stats.refresh).toBe(1);
  });
});

test.describe('with DPOP_NONCE on (the reference setup)', () => {
  // A restart without a refresh (the token in the record), to see the nonce alone come back.
  test.use({ serverOptions: { dpopNonce: true, accessTokenTtl: 4, workerConfig: { refreshBeforeExpiry: 1, persist: 'indexeddb' } } });

  test('the first request is challenged for a nonce and retried once; later ones carry the latest nonce', async ({ context, page, server }) => {
    const wire = await recordWire(context);
    await openApp(page, server);
    await login(page);
    for (let i = 0; i < 3; i++) expect((await apiFetch(page, '/api/me')).status).toBe(200);
    await page.waitForTimeout(3_200);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    expect(server.stats.refresh).toBe(1);

    // The demo's first status() tries a silent refresh: the very first request, and the only one challenged.
    expect(wire.filter((r) => r.nonceChallenge)).toEqual([wire[0]]);
    expect(decodeJwt(wire[0]!.dpop!).nonce).toBeUndefined();
    for (const r of wire.slice(1)) expect(typeof decodeJwt(r.dpop!).nonce, r.url).toBe('string');
    expect(wire.filter((r) => r.url.endsWith('/api/me')).every((r) => r.status === 200)).toBe(true);
  });

  test('a worker the browser stopped starts again with the nonce it had: no challenge on its first request', async ({ context, page, server }) => {
    const wire = await recordWire(context);
    await openApp(page, server);
    await login(page);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    const before = wire.length;
    await stopWorkers(context, page);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    const after = wire.slice(before);
    expect(after.map((r) => [new URL(r.url).pathname, r.status])).toEqual([['/api/me', 200]]);
    expect(typeof decodeJwt(after[0]!.dpop!).nonce).toBe('string');
  });
});

test.describe('a worker served with dpop: false, against a server where DPoP is optional', () => {
  test.use({ serverOptions: { dpop: 'optional', dpopNonce: false, workerConfig: { dpop: false } } });

  test('bearer tokens, no proofs', async ({ context, page, server }) => {
  const wire = await recordWire(context);
  await openApp(page, server);
  await login(page);
  expect((await apiFetch(page, '/api/me')).status).toBe(200);
  expect(wire.every((r) => r.dpop === null)).toBe(true);
  expect(wire.find((r) => r.url.includes('/api/'))!.authorization).toMatch(/^Bearer /);
});
});

test.describe('proofs signed in advance by script in the page (nonce slots of 3 s)', () => {
  const SLOT = 3;
  // The script reads the token from the record: the opt-in mode.
  test.use({ serverOptions: { dpopNonceSeconds: SLOT, accessTokenTtl: 300, workerConfig: { persist: 'indexeddb' } } });

  test('stop working at most two nonce slots after the script got its nonce, whatever iat it stamped', async ({ page, server }) => {
    await openApp(page, server);
    await login(page);
    const url = `${server.url}/api/me`;
    // The attack: the token and the key pair from IndexedDB, the nonce from an API response, and
    // proofs for the next minute, one every 3 s of iat, signed with the non-extractable key.
    const loot = await page.evaluate(async (htu) => {
      const read = (key: string) =>
        new Promise<unknown>((resolve, reject) => {
          const open = indexedDB.open('token-broker');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction('records').objectStore('records').get(key);
            get.onsuccess = () => resolve(get.result);
          };
        });
      const token = ((await read('session')) as { token: { accessToken: string } }).token.accessToken;
      const pair = (await read('dpop-key')) as { privateKey: CryptoKey; publicKey: CryptoKey };
      const nonce = (await fetch('/api/me')).headers.get('dpop-nonce')!;
      const gotNonceAt = Date.now();
      const b64u = (bytes: ArrayBuffer | Uint8Array) =>
        btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const part = (value: object) => b64u(new TextEncoder().encode(JSON.stringify(value)));
      const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
      const ath = b64u(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
      const proofs: { iat: number; proof: string }[] = [];
      for (let ahead = 0; ahead < 60; ahead += 3) {
        const iat = Math.floor(Date.now() / 1000) + ahead;
        const input = `${part({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty, crv, x, y } })}.${part({ htm: 'GET', htu, iat, jti: crypto.randomUUID(), ath, nonce })}`;
        const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, new TextEncoder().encode(input));
        proofs.push({ iat, proof: `${input}.${b64u(signature)}` });
      }
      return { token, proofs, gotNonceAt };
    }, url);
    // The user closes the tab, still signed in; the script is gone. (Signed out, the token would be refused
    // at once by the revocation check, proofs or not: revocation.spec.ts.)
    await page.close();

    // From another machine: each second, the unused proof whose iat is nearest to now.
    const unused = [...loot.proofs];
    const accepted: number[] = [];
    const until = loot.gotNonceAt + 5 * SLOT * 1000;
    while (Date.now() < until) {
      const now = Date.now() / 1000;
      unused.sort((a, b) => Math.abs(a.iat - now) - Math.abs(b.iat - now));
      const next = unused.shift()!;
      const res = await fetch(url, { headers: { authorization: `DPoP ${loot.token}`, dpop: next.proof } });
      if (res.status === 200) accepted.push(Date.now() - loot.gotNonceAt);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    // The control: the stolen proofs did work at first.
    expect(accepted.length).toBeGreaterThan(0);
    // The window left: at most two nonce slots from when the script read the nonce.
    expect(Math.max(...accepted)).toBeLessThanOrEqual(2 * SLOT * 1000 + 500);
  });
});
