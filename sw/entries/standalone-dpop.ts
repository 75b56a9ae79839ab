// public/sw-dpop.js: the broker with DPoP support, on unless its served
// configuration says `dpop: false`: choosing this script is choosing DPoP.
// It carries the passkey step-up too (the reference setup's full feature set).
import { dpopSupport } from '../dpop/signer';
import { passkeySupport } from '../passkeys/passkey-step';
import { startStandalone } from '../standalone-start';

declare const self: ServiceWorkerGlobalScope;

startStandalone(self, { dpop: dpopSupport, passkeys: passkeySupport }, { dpop: true });
