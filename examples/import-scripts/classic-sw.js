// An existing classic worker that pulls the broker in with importScripts.
// The broker reads its configuration from this worker's own URL
// (/classic-sw.js?staticRouting=false&...): staticRouting must be off here,
// or the requests this worker handles itself would bypass it.
importScripts('/sw.js');

self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/hello') {
    event.respondWith(new Response('hello from the host worker', { headers: { 'content-type': 'text/plain' } }));
  }
});
