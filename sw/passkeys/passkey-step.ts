// The worker's half of a passkey ceremony step: it calls the server's passkey
// endpoint with the session's token (and DPoP proof), so page script never
// holds the token the call needs nor the stepped-up one the answer carries.
import { sendWithToken } from '../api-fetch';
import type { PasskeyHost, PasskeySupport } from '../broker';
import { DEV } from '../dev';
import { MessageType, type BrokerReply } from '../protocol';
import { parseTokenResponse } from '../token-response';
import { checkPasskeyRequest } from './check-request';

// The session as the worker holds it now: what a ping answers.
const ping = (broker: PasskeyHost) => broker.handle({ type: MessageType.ping });

const fail = (code: 'not_authenticated' | 'network' | 'server' | 'invalid_passkey' | 'bad_request' | 'forbidden', message: string | false): BrokerReply => ({
  ok: false,
  error: { code, message: DEV ? (message as string) : code },
});

export type { PasskeyHost, PasskeySupport };

export const passkeySupport: PasskeySupport = async (broker, request) => {
  const checked = checkPasskeyRequest(request.step, request.response);
  if ('code' in checked) return { ok: false, error: checked };
  const { step, response } = checked;
  const decision = await broker.tokenForRequest();
  if (decision.kind !== 'token') return decision.kind === 'none' ? fail('not_authenticated', DEV && 'Sign in first') : fail('network', DEV && 'Could not get a token for the passkey call');
  const used = decision.token;
  const url = new URL(`${broker.config.endpoints.passkey}/${step}`, location.origin).href;
  const body = new TextEncoder().encode(JSON.stringify(response ? { response } : {})).buffer as ArrayBuffer;
  const outgoing = new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-token-broker': '1' }, redirect: 'error' });
  let answer: Response;
  let json: Record<string, unknown>;
  try {
    answer = await sendWithToken(broker, outgoing, body, used);
    json = ((await answer.json().catch(() => null)) ?? {}) as Record<string, unknown>;
  } catch {
    return fail('network', DEV && `Could not reach ${url}`);
  }
  if (!answer.ok) {
    const code = json.error;
    if (code === 'invalid_passkey') return fail('invalid_passkey', DEV && String(json.message));
    if (answer.status === 401 && code === 'insufficient_user_authentication') return fail('forbidden', DEV && 'Adding a passkey needs a recent sign-in: sign in again first');
    if (answer.status === 401) return fail('not_authenticated', DEV && String(json.message));
    return fail(answer.status === 400 ? 'bad_request' : answer.status === 403 ? 'forbidden' : 'server', DEV && `The passkey endpoint answered ${answer.status}: ${String(json.message)}`);
  }
  // The steps that post nothing (options, the list) hand the page these two fields of the answer, never a token.
  if (!response) {
    const { options, passkeys } = json;
    return options || passkeys ? ({ ok: true, options, passkeys } as BrokerReply) : fail('server', DEV && 'The passkey answer was empty');
  }
  if (step !== 'step-up') return ping(broker);
  const record = parseTokenResponse(json, broker.config, Date.now());
  if (!record) return fail('server', DEV && 'The step-up answer carried no token');
  return (await broker.adoptSteppedUp(record, used)) ? ping(broker) : fail('not_authenticated', DEV && 'The session changed during the step-up');
};
