// Passkey registration that a stolen session alone cannot do, and the account's passkeys
// listed and removed, in Chromium. The attacker is the attack review's: page script that
// makes a key of its own with WebCrypto and answers the ceremony without an authenticator
// (test-support/software-passkey.ts run as page script), through the worker's broker:passkey
// message as any script in the page can. The user's authenticator is a CDP virtual one.
import type { BrowserContext, CDPSession, Page } from '@playwright/test';
import { softwareAssertion, softwareRegistration, type SoftwarePasskey } from '../test-support/software-passkey';
import { apiFetch, expect, login, messageWorker, test, type RunningServer } from './support/fixtures';
import { passkeyPage } from './support/passkey-page';

const ALICE = { username: 'alice', password: 'wonderland' };

async function setUp(context: BrowserContext, page: Page, server: RunningServer): Promise<{ cdp: CDPSession; authenticatorId: string; origin: string }> {
  const set = await passkeyPage(context, page, server);
  await page.addScriptTag({ url: '/webauthn.js' });
  return set;
}

type Result = { ok: true; value: unknown } | { ok: false; code: string };

/** Calls one function of the passkeys entry in the page, as the app would. */
function entry(page: Page, fn: 'registerPasskey' | 'listPasskeys' | 'removePasskey' | 'stepUp', arg?: unknown): Promise<Result> {
  return page.evaluate(
    async ([name, a]) => {
      const m = (await import('/passkeys.js' as string)) as Record<string, (arg?: unknown) => Promise<unknown>>;
      try {
        return { ok: true as const, value: await m[name]!(a ?? undefined) };
      } catch (err) {
        return { ok: false as const, code: (err as { code: string }).code };
      }
    },
    [fn, arg ?? null] as const,
  );
}


async function options(page: Page, step: 'register-options' | 'step-up-options'): Promise<{ challenge: string; rp: { id: string }; rpId: string }> {
  const reply = await messageWorker(page, { type: 'broker:passkey', step });
  expect(reply.ok, JSON.stringify(reply)).toBe(true);
  return reply.options as never;
}

/** The attack: page script registers a WebCrypto key of its own through the worker, with `proof` (or none). */
async function hostileRegistration(page: Page, origin: string, proof: (p: Page) => Promise<unknown>): Promise<{ reply: Record<string, unknown>; passkey: SoftwarePasskey }> {
  const registerOptions = await options(page, 'register-options');
  const { response, passkey } = await page.evaluate(softwareRegistration, { options: registerOptions, origin });
  const reply = await messageWorker(page, { type: 'broker:passkey', step: 'register', response: { credential: response, proof: await proof(page) } });
  return { reply, passkey };
}

/** Page script's assertion with its own software key, for the session's step-up options. */
async function hostileAssertion(page: Page, origin: string, passkey: SoftwarePasskey): Promise<Record<string, unknown>> {
  return page.evaluate(softwareAssertion, { options: await options(page, 'step-up-options'), origin, passkey });
}

/** Page script asking the user's authenticator for an assertion (the prompt the user may approve). */
async function authenticatorAssertion(page: Page): Promise<Record<string, unknown>> {
  const o = await options(page, 'step-up-options');
  return page.evaluate(
    (optionsJSON) => (window as unknown as { SimpleWebAuthnBrowser: { startAuthentication(o: object): Promise<Record<string, unknown>> } }).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON }),
    o as object,
  );
}

const listIds = async (page: Page) => {
  const listed = await entry(page, 'listPasskeys');
  expect(listed.ok, JSON.stringify(listed)).toBe(true);
  return (listed as { value: { id: string }[] }).value.map((p) => p.id);
};

test('a first passkey: page script with the session alone cannot register its own key; with the password it can (the stated limit)', async ({ context, page, server }) => {
  const { origin } = await setUp(context, page, server);
  // The session alone: no proof, or a proof of a passkey the account does not have.
  expect((await hostileRegistration(page, origin, async () => ({}))).reply).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  expect((await hostileRegistration(page, origin, async () => ({ credentials: { username: 'alice', password: 'guess' } }))).reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  const ownKey = (await hostileRegistration(page, origin, async () => ({}))).passkey;
  const noPasskeyYet = await messageWorker(page, { type: 'broker:passkey', step: 'step-up-options' });
  expect(noPasskeyYet).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  expect(ownKey.id).toBeTruthy();
  expect(await listIds(page)).toEqual([]);
  // The app's own call without the password is refused before any prompt.
  expect(await entry(page, 'registerPasskey')).toEqual({ ok: false, code: 'bad_request' });

  // What the README says still works: a script that has the password (it keylogged the sign-in form) adds its key...
  const { reply, passkey } = await hostileRegistration(page, origin, async () => ({ credentials: ALICE }));
  expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true, session: { authenticated: true } });
  expect(await listIds(page)).toEqual([passkey.id]);
  // ...and steps up with it, no authenticator involved.
  const stepped = await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: await hostileAssertion(page, origin, passkey) });
  expect(stepped, JSON.stringify(stepped)).toMatchObject({ ok: true });
  expect((await apiFetch(page, '/api/transfer', { method: 'POST' })).status).toBe(200);
});

test('with a passkey registered, page script cannot add its own key: not with the session, the password, or its own key; only with an assertion of the user\'s', async ({ context, page, server }) => {
  const { origin } = await setUp(context, page, server);
  // The user registers a passkey on their authenticator (the password again: the first one).
  const registered = await entry(page, 'registerPasskey', ALICE);
  expect(registered, JSON.stringify(registered)).toMatchObject({ ok: true });
  const users = await listIds(page);
  expect(users).toHaveLength(1);

  expect((await hostileRegistration(page, origin, async () => ({}))).reply).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  // The password is no longer enough (a keylogged password adds nothing once the account has a passkey).
  expect((await hostileRegistration(page, origin, async () => ({ credentials: ALICE }))).reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  // An assertion of a key the script made itself, never registered: as if it were a passkey of the account.
  const { passkey: own } = await page.evaluate(softwareRegistration, { options: await options(page, 'register-options'), origin });
  const foreign = await hostileRegistration(page, origin, (p) => hostileAssertion(p, origin, own).then((assertion) => ({ assertion })));
  expect(foreign.reply).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  expect(await listIds(page)).toEqual(users);
  expect((await apiFetch(page, '/api/transfer', { method: 'POST' })).status).toBe(401);

  // The stated limit: a script that gets the user's authenticator to answer (a prompt the user approves) can.
  const approved = await hostileRegistration(page, origin, (p) => authenticatorAssertion(p).then((assertion) => ({ assertion })));
  expect(approved.reply, JSON.stringify(approved.reply)).toMatchObject({ ok: true });
  expect((await listIds(page)).sort()).toEqual([...users, approved.passkey.id].sort());
});

test('the app lists and removes the account\'s passkeys; page script cannot remove one without the user\'s authenticator', async ({ context, page, server }) => {
  const { cdp, authenticatorId, origin } = await setUp(context, page, server);
  expect((await entry(page, 'registerPasskey', ALICE)).ok).toBe(true);
  // The same authenticator cannot register a second (it holds an excluded credential: the app's call is cancelled);
  // a second one, here a software key, is added with an assertion of the first.
  expect(await entry(page, 'registerPasskey')).toEqual({ ok: false, code: 'passkey_cancelled' });
  const second = await hostileRegistration(page, origin, (p) => authenticatorAssertion(p).then((assertion) => ({ assertion })));
  expect(second.reply, JSON.stringify(second.reply)).toMatchObject({ ok: true });
  const ids = await listIds(page);
  expect(ids).toHaveLength(2);

  // Page script: remove without a proof, with the password, or with its own key's assertion.
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'remove', response: { id: ids[0] } })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'remove', response: { id: ids[0], proof: { credentials: ALICE } } })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  const { passkey: own } = await page.evaluate(softwareRegistration, { options: await options(page, 'register-options'), origin });
  const forged = await hostileAssertion(page, origin, own);
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'remove', response: { id: ids[0], proof: { assertion: forged } } })).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  expect(await listIds(page)).toEqual(ids);

  // The app removes the authenticator's passkey.
  const held = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.map((c) => Buffer.from(c.credentialId, 'base64').toString('base64url'));
  expect(held).toHaveLength(1);
  const target = held[0]!;
  expect(ids).toContain(target);
  const removed = await entry(page, 'removePasskey', target);
  expect(removed, JSON.stringify(removed)).toMatchObject({ ok: true, value: { authenticated: true } });
  expect(await listIds(page)).toEqual(ids.filter((id) => id !== target));
  // The removed passkey, still on the authenticator, no longer steps up.
  const o = await options(page, 'step-up-options');
  const stale = await page.evaluate(
    (optionsJSON) => (window as unknown as { SimpleWebAuthnBrowser: { startAuthentication(o: object): Promise<Record<string, unknown>> } }).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON }),
    { ...(o as object), allowCredentials: [{ id: target, type: 'public-key' }] },
  );
  expect(stale.id).toBe(target);
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'step-up', response: stale })).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  expect((await apiFetch(page, '/api/transfer', { method: 'POST' })).status).toBe(401);
});

test('listing and removing passkeys are of the signed-in account only, and need a session', async ({ context, page, server }) => {
  await setUp(context, page, server);
  expect((await entry(page, 'registerPasskey', ALICE)).ok).toBe(true);
  const alices = await listIds(page);
  expect(alices).toHaveLength(1);
  await login(page, 'bob', 'builder');
  expect(await listIds(page)).toEqual([]);
  // Bob's session naming Alice's passkey: refused before any assertion is looked at.
  const made = { id: alices[0], rawId: alices[0], type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' } };
  expect(await messageWorker(page, { type: 'broker:passkey', step: 'remove', response: { id: alices[0], proof: { assertion: made } } })).toMatchObject({ ok: false, error: { code: 'invalid_passkey' } });
  await page.evaluate(() => window.tokenBroker.logout());
  expect(await entry(page, 'listPasskeys')).toEqual({ ok: false, code: 'not_authenticated' });
  await login(page);
  expect(await listIds(page)).toEqual(alices);
});
