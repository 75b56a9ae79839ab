// installTokenBroker(self, config): wires the broker into a worker, standalone
// or alongside an app's own handlers (Workbox or hand-written). Register it
// before other fetch listeners so it sees API requests first.

import { handleApiRequest, endpointRefusal } from './api-fetch';
import { Broker } from './broker';
import { ConfigError, resolveConfig, type ResolvedConfig, type TokenBrokerConfig } from './config';
import { DEV } from './dev';
import type { DpopSupport } from './dpop/signer';
import type { PasskeySupport } from './passkeys/passkey-step';
import { handleMessage } from './message-handler';
import { classifyRequest } from './request-rules';
import { addStaticRoutes } from './static-routes';

export interface InstalledBroker {
  readonly config: ResolvedConfig;
}

export interface InstallOptions {
  /** DPoP support (`dpopSupport` from `token-broker/sw/dpop`); without it, `dpop: true` is refused. */
  dpop?: DpopSupport;
  /** Passkey step-up (`passkeySupport` from `token-broker/sw/passkeys`); without it, `broker:passkey` is refused. */
  passkeys?: PasskeySupport;
}

export function installTokenBroker(scope: ServiceWorkerGlobalScope, config?: TokenBrokerConfig, options: InstallOptions = {}): InstalledBroker {
  const resolved = resolveConfig(config, scope.location.origin);
  if (resolved.dpop && !options.dpop) {
    throw new ConfigError('dpop', DEV && 'needs DPoP support: register sw-dpop.js, or pass { dpop: dpopSupport } from token-broker/sw/dpop');
  }
  const broker = new Broker(scope, resolved, options.dpop, options.passkeys);
  const origin = scope.location.origin;

  scope.addEventListener('fetch', (event) => {
    const { request } = event;
    const kind = classifyRequest(request.url, request.mode, origin, resolved);
    if (kind === 'endpoint') {
      event.respondWith(endpointRefusal(new URL(request.url).pathname, scope.location.href, scope.registration.scope));
    } else if (kind === 'api' && !request.headers.has('authorization')) {
      // A request that already carries Authorization was set up by the page itself: left alone.
      // A network failure (offline, server down) reaches the page as the network error its own
      // fetch would give; a rejected respondWith would also surface as an uncaught error in the worker.
      event.respondWith(handleApiRequest(broker, request, event.clientId).catch(() => Response.error()));
    }
  });

  scope.addEventListener('message', (event) => handleMessage(scope, broker, event));

  scope.addEventListener('install', (event) => {
    if (resolved.staticRouting) addStaticRoutes(event, resolved);
    // Only a first install skips waiting. An update that skipped it would take over the open pages when
    // Chromium decides, possibly while the new version is stopped; such pages then send their fetches
    // past every worker, without the token, until they load again (docs/soak.md). It waits instead
    // until no page uses the old version, as the browser does by default.
    if (resolved.takeControl && !scope.registration.active) void scope.skipWaiting();
  });
  // A version that waited may have read the session long ago; the one it replaces kept it since.
  scope.addEventListener('activate', (event) =>
    event.waitUntil(Promise.all([broker.reloadShared(), resolved.takeControl && scope.clients.claim()])),
  );

  // Start reading the persisted record now, not on the first request.
  void broker.store.ready();
  return { config: resolved };
}
