// The standalone worker scripts: configuration comes from the search
// parameters of their own registration URL (`/sw.js?persist=memory`).

import { ConfigError, configFromSearchParams } from './config';
import { installTokenBroker, type InstallOptions } from './install';
import type { BrokerReply } from './protocol';
import { validateMessage } from './validate-message';

export function startStandalone(self: ServiceWorkerGlobalScope, options: InstallOptions): void {
  try {
    const config = configFromSearchParams(new URL(self.location.href).searchParams);
    // Nothing else handles fetches in this worker, so static requests may skip it.
    config.staticRouting ??= true;
    installTokenBroker(self, config, options);
  } catch (err) {
    // Throwing here would fail registration with an opaque "script evaluation
    // failed". Instead the worker stays up and answers every broker message with
    // the reason, and intercepts nothing.
    const message = err instanceof ConfigError ? err.message : `token broker failed to start: ${String(err)}`;
    console.error(`[token-broker] ${message}`);
    self.addEventListener('install', () => void self.skipWaiting());
    self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
    self.addEventListener('message', (event) => {
      if (validateMessage(event.data).kind === 'foreign') return;
      const reply: BrokerReply = { ok: false, error: { code: 'bad_config', message } };
      event.ports[0]?.postMessage(reply);
    });
  }
}
