// `token-broker/passkeys`: passkey registration and step-up for a page that uses
// the broker. WebAuthn runs only in a window, so the page calls the authenticator
// (through @simplewebauthn/browser); everything that needs a token goes through
// the worker, which calls the server's passkey endpoints and keeps the stepped-up
// token. The page gets the session, never a token. Its own entry: the default
// client stays as small as it was.
import { startAuthentication, startRegistration, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { messageSW } from 'workbox-window';
import { MessageType, type BrokerReply, type PasskeyInfo, type PasskeyProof, type PasskeyRequest, type PasskeyStep, type Session } from '../sw/protocol';
import { TokenBrokerError } from './index';

export { TokenBrokerError };
export type { PasskeyInfo };

async function send(step: PasskeyStep, response?: object): Promise<BrokerReply & { ok: true }> {
  const worker = navigator.serviceWorker?.controller;
  if (!worker) throw new TokenBrokerError('not_controlled', 'No broker worker controls this page: call registerTokenBroker() first');
  const message: PasskeyRequest = { type: MessageType.passkey, step, ...(response && { response: JSON.parse(JSON.stringify(response)) as Record<string, unknown> }) };
  const reply = (await messageSW(worker, message)) as BrokerReply | undefined;
  if (!reply || typeof reply !== 'object' || !('ok' in reply)) throw new TokenBrokerError('internal', `Unexpected reply to ${message.type}`);
  if (!reply.ok) throw new TokenBrokerError(reply.error.code, reply.error.message);
  return reply;
}

/** The browser's refusal (the user cancelled, no authenticator): `TokenBrokerError` with code `passkey_cancelled`. */
async function ceremony<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new TokenBrokerError('passkey_cancelled', err instanceof Error ? err.message : String(err));
  }
}

/** An assertion of one of the account's passkeys, for the session's step-up challenge: the user's authenticator prompts. */
async function assertion(): Promise<Record<string, unknown>> {
  const { options } = (await send('step-up-options')) as { options: unknown };
  return (await ceremony(() => startAuthentication({ optionsJSON: options as PublicKeyCredentialRequestOptionsJSON }))) as unknown as Record<string, unknown>;
}

/**
 * Adds a passkey to the signed-in account (the server asks for a recent sign-in: its `registerMaxAge`),
 * with its owner proved again: an account that has a passkey prompts for one of them first; the first
 * passkey needs `credentials`, the password again as `login()` takes them (rejects with `bad_request`
 * without them). Prompts the user's authenticator. Resolves the session.
 */
export async function registerPasskey(credentials?: Record<string, unknown>): Promise<Session> {
  const { options } = (await send('register-options')) as unknown as { options: PublicKeyCredentialCreationOptionsJSON };
  let proof: PasskeyProof;
  // The options exclude every passkey of the account: none, and it has none.
  if (options.excludeCredentials?.length) proof = { assertion: await assertion() };
  else if (credentials) proof = { credentials };
  else throw new TokenBrokerError('bad_request', 'The first passkey needs the password');
  const credential = await ceremony(() => startRegistration({ optionsJSON: options }));
  return ((await send('register', { credential, proof })) as { session: Session }).session;
}

/** The signed-in account's passkeys: id, when added (ms since the epoch), transports. */
export async function listPasskeys(): Promise<PasskeyInfo[]> {
  return ((await send('list')) as { passkeys: PasskeyInfo[] }).passkeys;
}

/** Removes one of the account's passkeys (an id from `listPasskeys()`): prompts for an assertion of one of them first. Resolves the session. */
export async function removePasskey(id: string): Promise<Session> {
  return ((await send('remove', { id, proof: { assertion: await assertion() } })) as { session: Session }).session;
}

/**
 * Step-up (RFC 9470) with a passkey: prompts the user's authenticator for a registered passkey,
 * with user verification, and the worker takes the fresh token (acr `phr`) the server answers.
 * Retry the refused call afterwards. Rejects with `invalid_passkey` when the server refused the assertion.
 */
export async function stepUp({ passkey }: { passkey: true }): Promise<Session> {
  if (passkey !== true) throw new TokenBrokerError('bad_request', 'stepUp() supports { passkey: true }; for a password, call login() again');
  return ((await send('step-up', await assertion())) as { session: Session }).session;
}
