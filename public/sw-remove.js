// The token broker's kill switch. Serve this file at your worker's URL (in
// place of sw.js or sw-dpop.js) to remove the broker from every user's
// browser: at the next update check the browser installs it; it signs the
// session out on the server (revoking the refresh family and clearing the
// cookie), deletes the worker's IndexedDB database, unregisters itself and
// reloads the pages it controlled, which then load without a worker.
// Plain JavaScript, no build; the logout path comes from the same served
// configuration as the broker's (`self.tokenBrokerConfig`), if any.
/* global self, indexedDB */
const config = self.tokenBrokerConfig || {};
const logout = (config.endpoints && config.endpoints.logout) || '/auth/logout';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      try {
        await fetch(logout, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', 'x-token-broker': '1' },
          body: '{}',
        });
      } catch {
        // Offline: the local session still goes; the server's idle lifetime ends the family.
      }
      await new Promise((resolve) => {
        const request = indexedDB.deleteDatabase('token-broker');
        request.onsuccess = request.onerror = request.onblocked = resolve;
      });
      await self.registration.unregister();
      const windows = await self.clients.matchAll({ type: 'window' });
      await Promise.all(windows.map((client) => client.navigate(client.url).catch(() => undefined)));
    })(),
  );
});
