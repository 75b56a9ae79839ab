// token-broker/react: a provider that registers the worker once, and
// useSession() for the session every component renders from. Nothing runs
// during render, so it is safe under server-side rendering (the first render
// has no broker and no session); the effect cleans up after itself, so React's
// StrictMode double effects leave one live subscription.
import { createContext, createElement, useContext, useEffect, useState, type ReactNode } from 'react';
import { followSession } from '../client/follow-session';
import { registerTokenBroker, type Claims, type RegisterOptions, type Session, type TokenBroker, type TokenBrokerError } from '../client/index';

// What a component catches or reads from `error`, importable from here as from the client: the same class
// (this entry imports token-broker/client), so `instanceof` holds whichever entry the app imports it from.
export { TokenBrokerError, type ClientErrorCode, type ErrorCode } from '../client/index';

export interface SessionState<C extends Claims = Claims> {
  /** Null until the worker controls the page (and always during server-side rendering). */
  broker: TokenBroker<C> | null;
  /** Null until the first status is known. */
  session: Session<C> | null;
  /** Why the broker could not start (`unsupported`, `bad_scope`, `bad_config`, ...). */
  error: TokenBrokerError | null;
}

const INITIAL: SessionState = { broker: null, session: null, error: null };
const SessionContext = createContext<SessionState | null>(null);

export interface TokenBrokerProviderProps {
  /** Passed to `registerTokenBroker()`; read once, when the provider mounts. */
  options?: RegisterOptions;
  children?: ReactNode;
}

export function TokenBrokerProvider({ options, children }: TokenBrokerProviderProps): ReactNode {
  const [state, setState] = useState<SessionState>(INITIAL);
  useEffect(
    () =>
      followSession(registerTokenBroker(options), {
        ready: (broker, session) => setState({ broker, session, error: null }),
        change: (session) => setState((s) => ({ ...s, session })),
        failed: (error) => setState({ broker: null, session: null, error }),
      }),
    // No dependencies: the options are read once, since registering again on every render would be wrong.
    [],
  );
  return createElement(SessionContext.Provider, { value: state }, children);
}

/** The broker, the session and any start-up error, for a component under `<TokenBrokerProvider>`. */
export function useSession<C extends Claims = Claims>(): SessionState<C> {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession() needs a <TokenBrokerProvider> above it');
  return state as unknown as SessionState<C>;
}
