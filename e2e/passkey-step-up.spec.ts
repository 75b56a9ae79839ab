// Step-up with a passkey in Chromium, the authenticator a CDP virtual one (CTAP2,
// internal, resident keys, user verification on): registration and assertion go
// through the worker's calls to the server's passkey endpoints, the stepped-up
// token stays in the worker, and a route asking for acr phr then passes.
import type { BrowserContext, CDPSession, Page } from '@playwright/test';
import { apiFetch, expect, login, messageWorker, test, type RunningServer } from './support/fixtures';
import { localOrigin, passkeyPage } from './support/passkey-page';


const local = (server: RunningServer) => ({ url: localOrigin(server) });

async function setUp(context: BrowserContext, page: Page, server: RunningServer): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const { cdp, authenticatorId } = await passkeyPage(context, page, server);
  return { cdp, authenticatorId };
}

/** Runs `fn` of the passkeys entry in the page; resolves its result or the error's code. A first passkey is registered with alice's password again. */
function passkeys(page: Page, fn: 'registerPasskey' | 'stepUp', credentials: object = { username: 'alice', password: 'wonderland' }): Promise<{ ok: true; session: unknown } | { ok: false; code: string; message: string }> {
  return page.evaluate(
    async ([name, creds]) => {
      const m = (await import('/passkeys.js' as string)) as Record<string, (arg?: unknown) => Promise<unknown>>;
      try {
        return { ok: true as const, session: await m[name]!(name === 'stepUp' ? { passkey: true } : creds) };
      } catch (err) {
        const e = err as { code: string; message: string };
        return { ok: false as const, code: e.code, message: e.message };
      }
    },
    [fn, credentials] as const,
  );
}


/** A real assertion for the options the worker last handed out, made by page script itself. */
async function assertion(page: Page): Promise<Record<string, unknown>> {
  const reply = await messageWorker(page, { type: 'broker:passkey', step: 'step-up-options' });
  expect(reply.ok, JSON.stringify(reply)).toBe(true);
  return page.evaluate(
    (optionsJSON) => (window as unknown as { SimpleWebAuthnBrowser: { startAuthentication(o: object): Promise<Record<string, unknown>> } }).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON }),
    reply.options as object,
  );
}

function countRequests(context: BrowserContext, pattern: string): { n: number } {
  const count = { n: 0 };
  void context.route(pattern, async (route) => {
    count.n += 1;
    await route.continue();
  });
  return count;
}

test('a passkey step-up meets acr phr: the retried call passes, with no refresh and no token in the page', async ({ context, page, server }) => {
  await setUp(context, page, server);
  const registered = await passkeys(page, 'registerPasskey');
  expect(registered, JSON.stringify(registered)).toMatchObject({ ok: true, session: { authenticated: true } });

  const refreshes = countRequests(context, '**/auth/refresh');
  const refused = await apiFetch(page, '/api/transfer', { method: 'POST' });
  expect(refused.status).toBe(401);
  expect(refused.body).toMatchObject({ error: 'insufficient_user_authentication' });
  expect(JSON.parse(refused.headers['x-token-broker-step-up']!)).toEqual({ acrValues: ['phr'] });

  const steppedUp = await passkeys(page, 'stepUp');
  expect(steppedUp.ok, JSON.stringify(steppedUp)).toBe(true);
  // What the page got is the session: its three fields, no token.
  if (steppedUp.ok) expect(Object.keys(steppedUp.session as object).sort()).toEqual(['authenticated', 'claims', 'expiresAt']);
  expect(JSON.stringify(steppedUp)).not.toMatch(/eyJ/);

  const retried = await apiFetch(page, '/api/transfer', { method: 'POST' });
  expect(retried.status, JSON.stringify(retried)).toBe(200);
  expect(retried.body).toMatchObject({ sub: 'alice', acr: 'phr', amr: ['hwk', 'user'] });
  expect(refreshes.n, 'no refresh loop on the challenge or after the step-up').toBe(0);
  // The ordinary routes go on with the stepped-up token.
  expect((await apiFetch(page, '/api/me')).status).toBe(200);

  // A refresh goes back to the sign-in's level: the family keeps the password's acr.
  await page.evaluate(() => window.tokenBroker.refresh());
  expect(refreshes.n).toBe(1);
  const after = await apiFetch(page, '/api/transfer', { method: 'POST' });
  expect(after.status).toBe(401);
  expect(after.body).toMatchObject({ error: 'insufficient_user_authentication' });
});

test('a tampered, a replayed and a stale assertion are refused with invalid_passkey; the session is unchanged', async ({ context, page, server }) => {
  await setUp(context, page, server);
  await page.addScriptTag({ url: '/webauthn.js' });
  expect((await passkeys(page, 'registerPasskey')).ok).toBe(true);

  // Tampered: one character of the signature changed.
  const good = await assertion(page);
  const inner = good.response as Record<string, string>;
  const sig = inner.signature!;
  // A byte in the middle of the DER signature's r value changed.
  const bytes = Buffer.from(sig, 'base64url');
  bytes[12] = bytes[12]! ^ 0xff;
  const tampered = { ...good, response: { ...inner, signature: bytes.toString('base64url') } };
  const bad = await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: tampered });
  expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  // The failed answer spent the challenge: the good one for it is refused too.
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: good })).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });

  // For another challenge: options asked for again replace the pending ones.
  const stale = await assertion(page);
  await messageWorker(page, { type: 'broker:passkey', step: 'step-up-options' });
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: stale })).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });

  // Replayed: the first use passes, the same assertion again is refused (its challenge is spent).
  const once = await assertion(page);
  const first = await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: once });
  expect(first, JSON.stringify(first)).toMatchObject({ ok: true, session: { authenticated: true } });
  const replay = await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: once });
  expect(replay).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  // The session is the stepped-up one still: refusals changed nothing.
  expect((await apiFetch(page, '/api/transfer', { method: 'POST' })).status).toBe(200);
});

test('before any step-up, refused assertions leave the password session as it was', async ({ context, page, server }) => {
  await setUp(context, page, server);
  await page.addScriptTag({ url: '/webauthn.js' });
  expect((await passkeys(page, 'registerPasskey')).ok).toBe(true);
  const good = await assertion(page);
  const forged = { ...good, response: { ...(good.response as object), clientDataJSON: Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: 'AAAA', origin: local(server).url })).toString('base64url') } };
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: forged })).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  expect((await apiFetch(page, '/api/transfer', { method: 'POST' })).status).toBe(401);
  expect((await apiFetch(page, '/api/me')).status).toBe(200);
  // Malformed messages: a stable code, and the worker goes on.
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'nope' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: 'x' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: { id: 1 } })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  expect((await apiFetch(page, '/api/me')).status).toBe(200);
});

test('a hostile page script cannot call the passkey endpoints itself through the worker, nor get a token from them', async ({ context, page, server }) => {
  await setUp(context, page, server);
  await page.addScriptTag({ url: '/webauthn.js' });
  expect((await passkeys(page, 'registerPasskey')).ok).toBe(true);
  const reached = countRequests(context, '**/auth/passkey/**');
  const response = await assertion(page);
  const before = reached.n;
  for (const path of ['/auth/passkey/step-up', '/auth/passkey/step-up-options', '/auth/passkey/register', '/auth//passkey/step-up/', '/AUTH/passkey/step-up']) {
    const direct = await apiFetch(page, path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-token-broker': '1' }, body: JSON.stringify({ response }) });
    expect(direct.status, path).toBe(403);
    expect(direct.body).toMatchObject({ error: { code: 'endpoint_reserved' } });
  }
  expect(reached.n - before, 'the refused calls never left the worker').toBe(0);
  // Through the worker the same assertion is spent on the worker's own call, and the page gets a session.
  const reply = await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response });
  expect(reply.ok).toBe(true);
  expect(JSON.stringify(reply)).not.toMatch(/eyJ/);
});

test("an assertion signed with another account's passkey is refused for this one", async ({ context, page, server }) => {
  const { cdp, authenticatorId } = await setUp(context, page, server);
  await page.addScriptTag({ url: '/webauthn.js' });
  // Bob registers a passkey on this authenticator, then Alice signs in and registers hers.
  await login(page, 'bob', 'builder');
  expect((await passkeys(page, 'registerPasskey', { username: 'bob', password: 'builder' })).ok).toBe(true);
  const bobs = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.map((c) => c.credentialId);
  await login(page);
  expect((await passkeys(page, 'registerPasskey')).ok).toBe(true);
  // Page script answers Alice's challenge with Bob's passkey.
  const reply = await messageWorker(page, { type: 'broker:passkey', step: 'step-up-options' });
  const bobId = Buffer.from(bobs[0]!, 'base64').toString('base64url');
  const answer = await page.evaluate(
    (optionsJSON) => (window as unknown as { SimpleWebAuthnBrowser: { startAuthentication(o: object): Promise<Record<string, unknown>> } }).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON }),
    { ...(reply.options as object), allowCredentials: [{ id: bobId, type: 'public-key' }] },
  );
  expect(answer.id).toBe(bobId);
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: answer })).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  expect((await apiFetch(page, '/api/transfer', { method: 'POST' })).status).toBe(401);
});

test('an assertion made without user verification (page script asking the authenticator for presence only) is refused', async ({ context, page, server }) => {
  const { cdp, authenticatorId } = await setUp(context, page, server);
  await page.addScriptTag({ url: '/webauthn.js' });
  expect((await passkeys(page, 'registerPasskey')).ok).toBe(true);
  // The page runs the ceremony, so a hostile script can relax what it asks of the authenticator: a touch, no fingerprint.
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
  const reply = await messageWorker(page, { type: 'broker:passkey', step: 'step-up-options' });
  expect(reply.ok, JSON.stringify(reply)).toBe(true);
  const presenceOnly = await page.evaluate(
    (optionsJSON) =>
      (window as unknown as { SimpleWebAuthnBrowser: { startAuthentication(o: object): Promise<Record<string, unknown>> } }).SimpleWebAuthnBrowser.startAuthentication({
        optionsJSON: { ...optionsJSON, userVerification: 'discouraged' },
      }),
    reply.options as object,
  );
  // The authenticator data's UV flag (bit 2 of the flags byte, after the 32-byte RP id hash) is off.
  const flags = Buffer.from((presenceOnly.response as { authenticatorData: string }).authenticatorData, 'base64url')[32]!;
  expect(flags & 0x04).toBe(0);
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: presenceOnly })).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  expect((await apiFetch(page, '/api/transfer', { method: 'POST' })).status).toBe(401);
});
