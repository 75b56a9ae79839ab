// token-broker/vue: `app.use(tokenBroker, options)` and useSession() for Vue 3
// components. The worker is registered once per page, on the first mount of
// any component that uses it (children mount before their parents, hence the
// options on the app, not on a call); every such component follows the
// session from then on. Nothing runs during setup on the server, so it is
// safe under server-side rendering: there the refs stay null.
import { inject, onMounted, onUnmounted, shallowRef, type App, type InjectionKey, type ShallowRef } from 'vue';
import { followSession } from '../client/follow-session';
import { registerTokenBroker, type Claims, type RegisterOptions, type Session, type TokenBroker, type TokenBrokerError } from '../client/index';

// What a component catches or reads from `error`, importable from here as from the client: the same class
// (this entry imports token-broker/client), so `instanceof` holds whichever entry the app imports it from.
export { TokenBrokerError, type ClientErrorCode, type ErrorCode } from '../client/index';

export interface SessionRefs<C extends Claims = Claims> {
  /** Null until the worker controls the page (and always during server-side rendering). */
  broker: ShallowRef<TokenBroker<C> | null>;
  /** Null until the first status is known. */
  session: ShallowRef<Session<C> | null>;
  /** Why the broker could not start (`unsupported`, `bad_scope`, `bad_config`, ...). */
  error: ShallowRef<TokenBrokerError | null>;
}

const OPTIONS: InjectionKey<RegisterOptions> = Symbol('token-broker options');
let started: Promise<TokenBroker> | null = null;

/** `app.use(tokenBroker, { scriptURL: '/sw.js' })`: the options of `registerTokenBroker()` for the whole app. */
export const tokenBroker = {
  install(app: App, options: RegisterOptions = {}): void {
    app.provide(OPTIONS, options);
  },
};

/** The broker, the session and any start-up error, for a component of an app that uses `tokenBroker`. */
export function useSession<C extends Claims = Claims>(): SessionRefs<C> {
  const options = inject(OPTIONS, {});
  const refs: SessionRefs<C> = { broker: shallowRef(null), session: shallowRef(null), error: shallowRef(null) };
  let stop = () => {};
  onMounted(() => {
    started ??= registerTokenBroker(options);
    stop = followSession(started as Promise<TokenBroker<C>>, {
      ready: (broker, session) => {
        refs.broker.value = broker;
        refs.session.value = session;
      },
      change: (session) => (refs.session.value = session),
      failed: (error) => (refs.error.value = error),
    });
  });
  onUnmounted(() => stop());
  return refs;
}
