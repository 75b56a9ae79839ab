// The pure shaping around WebAuthn: the user handle, the stored key as the
// library wants it, and the first check of a posted ceremony response, registration or removal.
import { createHash } from 'node:crypto';
import type { WebAuthnCredential } from '@simplewebauthn/server';
import type { PasskeyProof, PasskeyRegistration, PasskeyRemoval } from '../../sw/protocol';
import type { StoredPasskey } from './store';

/** The WebAuthn user handle: a hash of the subject, stable per account, that does not show it to the authenticator. */
export function passkeyUserId(sub: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(`token-broker passkey user\0${sub}`).digest());
}

export function toWebAuthnCredential(stored: StoredPasskey): WebAuthnCredential {
  return {
    id: stored.id,
    publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')),
    counter: stored.counter,
    transports: stored.transports as WebAuthnCredential['transports'],
  };
}

const B64URL = /^[A-Za-z0-9_-]{1,2048}$/;

/**
 * Whether `value` has the shape of a browser's registration (`attestationObject`) or
 * authentication (`signature`) response JSON, so that only such ones reach the verifier.
 */
export function isCeremonyResponse(value: unknown, field: 'attestationObject' | 'signature'): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { id, rawId, type, response } = value as Record<string, unknown>;
  if (typeof id !== 'string' || !B64URL.test(id) || rawId !== id || type !== 'public-key') return false;
  if (typeof response !== 'object' || response === null) return false;
  const inner = response as Record<string, unknown>;
  return typeof inner.clientDataJSON === 'string' && B64URL.test(inner.clientDataJSON) && typeof inner[field] === 'string' && /^[A-Za-z0-9_-]{1,16384}$/.test(inner[field]);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The proof of a registration or removal, as posted: an assertion's shape, or credentials (a plain object). */
function proofOf(value: unknown, password: boolean): PasskeyProof | null {
  if (!isObject(value)) return null;
  if ('assertion' in value) return isCeremonyResponse(value.assertion, 'signature') ? { assertion: value.assertion as Record<string, unknown> } : null;
  return password && isObject(value.credentials) ? { credentials: value.credentials } : null;
}

/** A `register` body's `response` (`PasskeyRegistration`) when it has that shape, else null. */
export function registrationOf(value: unknown): PasskeyRegistration | null {
  if (!isObject(value) || !isCeremonyResponse(value.credential, 'attestationObject')) return null;
  const proof = proofOf(value.proof, true);
  return proof && { credential: value.credential as Record<string, unknown>, proof };
}

/** A `remove` body's `response` (`PasskeyRemoval`) when it has that shape, else null. */
export function removalOf(value: unknown): PasskeyRemoval | null {
  if (!isObject(value) || typeof value.id !== 'string' || !B64URL.test(value.id)) return null;
  const proof = proofOf(value.proof, false);
  return proof && 'assertion' in proof ? { id: value.id, proof } : null;
}
