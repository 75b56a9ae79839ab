// Following a broker that is being started, for the framework glue (React,
// Vue): the broker and its first status once ready, every session change
// after that, or the error that kept it from starting. Stopping makes every
// later callback a no-op, so an unmounted component is never updated.
import type { Claims, Session, TokenBroker, TokenBrokerError } from './index';

export interface SessionFollower<C extends Claims> {
  ready(broker: TokenBroker<C>, session: Session<C>): void;
  change(session: Session<C>): void;
  failed(error: TokenBrokerError): void;
}

/** Resolves `started` and reports to `follower`; returns the stop function. */
export function followSession<C extends Claims>(started: Promise<TokenBroker<C>>, follower: SessionFollower<C>): () => void {
  let live = true;
  let unsubscribe = () => {};
  started
    .then(async (broker) => {
      if (!live) return;
      unsubscribe = broker.onSessionChange(({ session }) => {
        if (live) follower.change(session);
      });
      const session = await broker.status();
      if (live) follower.ready(broker, session);
    })
    .catch((error: TokenBrokerError) => {
      if (live) follower.failed(error);
    });
  return () => {
    live = false;
    unsubscribe();
  };
}
