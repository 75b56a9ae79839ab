// An existing classic worker that pulls the broker in with importScripts.
// The broker's configuration is set here, before the import: it is this
// worker's code, so no page can choose it. staticRouting must be off here, or
// the requests this worker handles itself would bypass it.
self.tokenBrokerConfig = { staticRouting: false, exposeClaims: ['sub', 'name'] };
importScripts('/sw.js');

self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/hello') {
    event.respondWith(new Response('hello from the host worker', { headers: { 'content-type': 'text/plain' } }));
  }
});
