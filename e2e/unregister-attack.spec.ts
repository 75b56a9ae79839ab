// The attack RFC 10017 section 7.4.1.1 gives against a service worker that
// holds tokens: page script unregisters the worker, opens a new frame or window (which no
// worker controls then) and runs a flow of its own there. Here the flow is the
// refresh endpoint, which the cookie authenticates. What the broker can and
// cannot do about it, as the README's RFC 10017 table says.
import type { Page } from '@playwright/test';
import { apiFetch, expect, login, openApp, readBrokerRecord, test } from './support/fixtures';

interface Answer {
  controlled: boolean;
  status: number;
  body: { access_token?: string; token_type?: string; error?: string };
  nonce: string | null;
}

/** As page script: unregister, open a same-origin window, call the refresh endpoint from it (with a proof when asked). */
function refreshFromNewFrame(page: Page, signWithStoredKey: boolean): Promise<Answer> {
  return page.evaluate(async (sign) => {
    await (await navigator.serviceWorker.getRegistration())!.unregister();
    // A frame would do where the app allows framing; the reference server forbids it (frame-ancestors 'none'), so a window.
    // Not the app's page, whose client would register the worker again.
    const w = window.open('/attacker-window')! as Window & typeof globalThis;
    while (w.location.pathname !== '/attacker-window' || w.document.readyState !== 'complete') await new Promise((r) => setTimeout(r, 50));
    const url = `${location.origin}/auth/refresh`;
    const proof = async (nonce: string | null) => {
      // The worker's key, read the way any same-origin script can: it signs, it does not export.
      const pair = await new Promise<CryptoKeyPair>((resolve, reject) => {
        const open = indexedDB.open('token-broker');
        open.onsuccess = () => {
          const get = open.result.transaction('records').objectStore('records').get('dpop-key');
          get.onsuccess = () => resolve(get.result as CryptoKeyPair);
          get.onerror = () => reject(get.error);
        };
      });
      const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
      const b64 = (data: string | ArrayBuffer) =>
        btoa(typeof data === 'string' ? data : String.fromCharCode(...new Uint8Array(data))).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
      const input = `${b64(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }))}.${b64(
        JSON.stringify({ htm: 'POST', htu: url, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ...(nonce ? { nonce } : {}) }),
      )}`;
      const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, new TextEncoder().encode(input));
      return `${input}.${b64(signature)}`;
    };
    const call = async (nonce: string | null) => {
      const headers: Record<string, string> = { 'x-token-broker': '1' };
      if (sign) headers['dpop'] = await proof(nonce);
      const res = await w.fetch(url, { method: 'POST', headers });
      return { status: res.status, body: await res.json(), nonce: res.headers.get('dpop-nonce') };
    };
    let answer = await call(null);
    if (sign && answer.body.error === 'use_dpop_nonce') answer = await call(answer.nonce);
    return { controlled: !!w.navigator.serviceWorker.controller, ...answer };
  }, signWithStoredKey);
}

test.describe('with bearer tokens (dpop off)', () => {
  test.use({ serverOptions: { dpop: 'optional', dpopNonce: false, workerConfig: { dpop: false } } });

  test('not met: the new window is not controlled and its refresh gets a fresh token', async ({ page, server }) => {
    await openApp(page, server);
    await login(page);
    const answer = await refreshFromNewFrame(page, false);
    expect(answer.controlled).toBe(false);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
  });
});

test.describe('in the reference setup (DPoP required, nonces)', () => {
  test('a refresh without a proof of the worker\'s key gets nothing and rotates nothing: the session carries on', async ({ page, server }) => {
    await openApp(page, server);
    await login(page);
    const rotations = server.stats.refresh;
    const answer = await refreshFromNewFrame(page, false);
    expect(answer.controlled).toBe(false);
    expect(answer.status).toBe(400);
    expect(answer.body.access_token).toBeUndefined();
    expect(server.stats.refresh).toBe(rotations);
    // The page that was open keeps its (unregistered) worker until it closes.
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
  });

  test('not met while the script runs (RFC 9449 section 11.4): it signs with the stored key, non-extractable as it is, and gets a token bound to it', async ({ page, server }) => {
    await openApp(page, server);
    await login(page);
    expect(await readBrokerRecord(page, 'dpop-key')).toMatchObject({ privateKey: { extractable: false } });
    const answer = await refreshFromNewFrame(page, true);
    expect(answer.controlled).toBe(false);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'DPoP', access_token: expect.any(String) });
    // Outside the browser the token is useless without the key (dpop.spec.ts "an attacker with script in the page").
    const asBearer = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${answer.body.access_token}` } });
    expect(asBearer.status).toBe(401);
  });
});
