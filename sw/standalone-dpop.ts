// public/sw-dpop.js: the broker with DPoP support (`?dpop=true` turns it on).
import { dpopSupport } from './dpop';
import { startStandalone } from './standalone-start';

declare const self: ServiceWorkerGlobalScope;

startStandalone(self, { dpop: dpopSupport });
