// Validates what arrives on the worker's message channel. Anything a page (or
// another library sharing the worker) posts is untrusted: the result is either
// a well-formed request, a clear error, or "not ours" to be ignored.

import { DEV } from './dev';
import { MESSAGE_PREFIX, MessageType, type BrokerError, type BrokerRequest } from './protocol';

/** Credentials are forwarded to the login endpoint as JSON; bound their size. */
export const MAX_CREDENTIALS_BYTES = 16 * 1024;

export type ValidationResult =
  | { kind: 'request'; request: BrokerRequest }
  | { kind: 'invalid'; error: BrokerError }
  /** Not a broker message: another library's, left alone. */
  | { kind: 'foreign' };

const REQUEST_TYPES = new Set<string>([
  MessageType.login,
  MessageType.logout,
  MessageType.status,
  MessageType.refresh,
  MessageType.claim,
  MessageType.ping,
  MessageType.resume,
  MessageType.passkey,
  MessageType.signedIn,
  MessageType.signIn,
]);

/** In production the message names the message type or field at fault, without the prose. */
function bad(message: string | false, fact: string): ValidationResult {
  return { kind: 'invalid', error: { code: 'bad_request', message: DEV ? (message as string) : fact } };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** JSON size of a value, or null when it cannot be serialised (cycles, BigInt, ...). */
function jsonSize(v: unknown): number | null {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? null : s.length;
  } catch {
    return null;
  }
}

export function validateMessage(data: unknown): ValidationResult {
  if (!isPlainObject(data) || typeof data.type !== 'string' || !data.type.startsWith(MESSAGE_PREFIX)) {
    return { kind: 'foreign' };
  }
  const { type } = data;
  const shown = JSON.stringify(type.slice(0, 64));
  if (!REQUEST_TYPES.has(type)) return bad(DEV && `unknown message type ${shown}`, shown);
  const allowed = type === MessageType.login ? ['credentials'] : type === MessageType.passkey ? ['step', 'response'] : type === MessageType.signIn ? ['returnTo'] : [];
  const extra = Object.keys(data).filter((k) => k !== 'type' && !allowed.includes(k));
  if (extra.length > 0) return bad(DEV && `${type} does not take ${extra.slice(0, 5).join(', ')}`, extra[0]!.slice(0, 64));

  if (type === MessageType.login) {
    const { credentials } = data;
    if (!isPlainObject(credentials)) return bad(DEV && 'broker:login needs a credentials object', 'credentials');
    const size = jsonSize(credentials);
    if (size === null) return bad(DEV && 'credentials must be JSON-serialisable', 'credentials');
    if (size > MAX_CREDENTIALS_BYTES) return bad(DEV && `credentials are larger than ${MAX_CREDENTIALS_BYTES} bytes`, 'credentials');
    return { kind: 'request', request: { type, credentials } };
  }
  // Their fields are checked by the passkey support (sw/passkeys/), which a worker without it does not
  // carry, and by the start route (returnTo: a path of this origin, or its bad_return_to).
  if (type === MessageType.passkey || type === MessageType.signIn) return { kind: 'request', request: data as unknown as BrokerRequest };
  return { kind: 'request', request: { type } as BrokerRequest };
}
