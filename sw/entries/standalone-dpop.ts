// public/sw-dpop.js: the broker with DPoP support, on unless its served
// configuration says `dpop: false`: choosing this script is choosing DPoP.
import { dpopSupport } from '../dpop/signer';
import { startStandalone } from '../standalone-start';

declare const self: ServiceWorkerGlobalScope;

startStandalone(self, { dpop: dpopSupport }, { dpop: true });
