// useSession(): the broker's session as Preact state, kept in step with every
// tab through onSessionChange. A hook needs useState/useEffect, so it lives
// with the example rather than in the framework-free client.
import { useEffect, useState } from 'preact/hooks';
import type { Session, TokenBroker } from '../../client/index';

export function useSession(broker: TokenBroker): Session | null {
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    let live = true;
    const off = broker.onSessionChange((event) => setSession(event.session));
    void broker.status().then((s) => live && setSession(s));
    return () => {
      live = false;
      off();
    };
  }, [broker]);
  return session;
}
