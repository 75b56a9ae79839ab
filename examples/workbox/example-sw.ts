// An app's own service worker that already uses Workbox: precaching for
// offline assets, a route of its own, and the token broker in front of both.
import { precacheAndRoute } from 'workbox-precaching';
import { registerRoute } from 'workbox-routing';
import { installTokenBroker } from '../../sw/entries/index';

declare const self: ServiceWorkerGlobalScope;
/** Filled in by the build: the example's files with content hashes. */
declare const PRECACHE_MANIFEST: { url: string; revision: string }[];

// First, so its fetch listener answers API requests before Workbox's router looks at them.
installTokenBroker(self, { apiPrefixes: ['/api/'] });

precacheAndRoute(PRECACHE_MANIFEST);
registerRoute('/hello', async () => new Response('hello from the app worker', { headers: { 'content-type': 'text/plain' } }));
