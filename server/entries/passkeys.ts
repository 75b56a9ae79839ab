// token-broker/server/passkeys: step-up with a passkey (WebAuthn) on top of the broker.
// Needs the optional peer dependency @simplewebauthn/server; nothing else of the library imports it.
export { createPasskeys, type PasskeyEndpoints, type PasskeyOptions } from '../passkeys/passkeys';
export { memoryPasskeyStore, type ChallengePurpose, type PasskeyStore, type StoredPasskey } from '../passkeys/store';
export { PASSKEY_ACR, PASSKEY_AMR } from '../../sw/protocol';
