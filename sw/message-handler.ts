// The worker's side of the message API: validate, check the sender, answer on
// the reply port. A malformed or hostile message gets an error or is ignored;
// it never throws out of the handler.

import type { Broker } from './broker';
import { DEV } from './dev';
import { isInScope } from './broadcast';
import type { BrokerReply } from './protocol';
import { validateMessage } from './validate-message';

function reply(port: MessagePort, message: BrokerReply): void {
  try {
    port.postMessage(message);
  } catch (err) {
    if (DEV) console.warn('[token-broker] could not reply', err);
  }
}

function isWindowInScope(source: ExtendableMessageEvent['source'], scope: string): boolean {
  return !!source && 'type' in source && source.type === 'window' && isInScope(source.url, scope);
}

export function handleMessage(scope: ServiceWorkerGlobalScope, broker: Broker, event: ExtendableMessageEvent): void {
  const result = validateMessage(event.data);
  if (result.kind === 'foreign') return;
  const port = event.ports[0];
  // Without a reply port there is no one to answer; acting on it anyway would let
  // fire-and-forget messages change the session unseen.
  if (!port) return;
  if (result.kind === 'invalid') return reply(port, { ok: false, error: result.error });
  if (!isWindowInScope(event.source, scope.registration.scope)) {
    return reply(port, { ok: false, error: { code: 'forbidden', message: DEV ? 'Only windows within the worker scope may use the broker' : 'forbidden' } });
  }
  event.waitUntil(
    broker
      .handle(result.request)
      .catch((err: unknown): BrokerReply => {
        console.error('[token-broker]', err);
        return { ok: false, error: { code: 'internal', message: DEV ? 'The broker failed to handle the request' : 'internal' } };
      })
      .then((r) => reply(port, r)),
  );
}
