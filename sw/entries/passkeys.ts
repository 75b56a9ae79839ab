// `token-broker/sw/passkeys`: passkey step-up support for installTokenBroker, kept out
// of the main worker module so that workers without it do not carry it.
export { passkeySupport, type PasskeySupport } from '../passkeys/passkey-step';
