// Tells every window of the worker's scope about a session change, controlled
// or not, so a tab that a hard reload left uncontrolled still follows along.

import { MessageType, type Session, type SessionBroadcast, type SessionChangeReason } from './protocol';

export function isInScope(url: string, scope: string): boolean {
  return url.startsWith(scope);
}

export async function broadcastSession(
  scope: ServiceWorkerGlobalScope,
  reason: SessionChangeReason,
  session: Session,
): Promise<void> {
  const message: SessionBroadcast = { type: MessageType.session, reason, session };
  const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const client of windows) {
    if (isInScope(client.url, scope.registration.scope)) client.postMessage(message);
  }
}
