// `token-broker/passkeys`: passkey registration and step-up for a page that uses
// the broker. WebAuthn runs only in a window, so the page calls the authenticator
// (through @simplewebauthn/browser); everything that needs a token goes through
// the worker, which calls the server's passkey endpoints and keeps the stepped-up
// token. The page gets the session, never a token. Its own entry: the default
// client stays as small as it was.
import { startAuthentication, startRegistration, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { messageSW } from 'workbox-window';
import { MessageType, type BrokerReply, type PasskeyRequest, type PasskeyStep, type Session } from '../sw/protocol';
import { TokenBrokerError } from './index';

export { TokenBrokerError };

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

/**
 * Adds a passkey to the signed-in account (the server asks for a recent sign-in: its
 * `registerMaxAge`). Prompts the user's authenticator. Resolves the session.
 */
export async function registerPasskey(): Promise<Session> {
  const { options } = (await send('register-options')) as { options: unknown };
  const response = await ceremony(() => startRegistration({ optionsJSON: options as PublicKeyCredentialCreationOptionsJSON }));
  return ((await send('register', response)) as { session: Session }).session;
}

/**
 * Step-up (RFC 9470) with a passkey: prompts the user's authenticator for a registered passkey,
 * with user verification, and the worker takes the fresh token (acr `phr`) the server answers.
 * Retry the refused call afterwards. Rejects with `invalid_passkey` when the server refused the assertion.
 */
export async function stepUp({ passkey }: { passkey: true }): Promise<Session> {
  if (passkey !== true) throw new TokenBrokerError('bad_request', 'stepUp() supports { passkey: true }; for a password, call login() again');
  const { options } = (await send('step-up-options')) as { options: unknown };
  const response = await ceremony(() => startAuthentication({ optionsJSON: options as PublicKeyCredentialRequestOptionsJSON }));
  return ((await send('step-up', response)) as { session: Session }).session;
}
