// The standalone worker scripts: configuration from `self.tokenBrokerConfig`,
// set by whatever serves the script (see standalone-config.ts).

import { ConfigError, type TokenBrokerConfig } from './config';
import { installTokenBroker, type InstallOptions } from './install';
import type { BrokerReply } from './protocol';
import { CONFIG_GLOBAL, standaloneConfig } from './standalone-config';
import { validateMessage } from './validate-message';

export function startStandalone(self: ServiceWorkerGlobalScope, options: InstallOptions, defaults: TokenBrokerConfig = {}): void {
  try {
    // Nothing else handles fetches in this worker, so static requests may skip it.
    const given = (self as unknown as Record<string, unknown>)[CONFIG_GLOBAL];
    installTokenBroker(self, standaloneConfig(self.location.href, given, { staticRouting: true, ...defaults }), options);
  } catch (err) {
    // Throwing here would fail registration with an opaque "script evaluation
    // failed". Instead the worker stays up and answers every broker message with
    // the reason, and intercepts nothing.
    const message = err instanceof ConfigError ? err.message : String(err);
    console.error('[token-broker]', message);
    self.addEventListener('install', () => void self.skipWaiting());
    self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
    self.addEventListener('message', (event) => {
      if (validateMessage(event.data).kind === 'foreign') return;
      const reply: BrokerReply = { ok: false, error: { code: 'bad_config', message } };
      event.ports[0]?.postMessage(reply);
    });
  }
}
