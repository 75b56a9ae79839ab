// The page side of the token broker: registers the worker through
// workbox-window, waits until the page is controlled, and wraps the message API
// in typed calls. It never sees a token: every reply is a Session.

import { messageSW, Workbox } from 'workbox-window';
import type { TokenBrokerConfig } from '../sw/config';
import {
  MessageType,
  SIGN_IN_ERROR_PARAM,
  SIGN_IN_PARAM,
  type BrokerReply,
  type BrokerRequest,
  type Credentials,
  type ErrorCode,
  type Session,
  type SessionBroadcast,
  type SessionChangeReason,
} from '../sw/protocol';

export type { Session, SessionChangeReason, Credentials, ErrorCode, TokenBrokerConfig };
export { stepUpRequirement, type StepUpRequirement } from './step-up';

/** Codes only the client produces, on top of the worker's. */
export type ClientErrorCode = ErrorCode | 'unsupported' | 'registration_failed' | 'bad_scope' | 'not_controlled' | 'foreign_worker' | 'timeout' | 'passkey_cancelled';

export class TokenBrokerError extends Error {
  override readonly name = 'TokenBrokerError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RegisterOptions {
  /** URL of the worker script (default `/sw.js`). */
  scriptURL?: string;
  scope?: string;
  /** 'module' when your own worker is an ES module. */
  type?: WorkerType;
  /** How long to wait for the worker to control the page (default 10 s). */
  timeoutMs?: number;
  /**
   * When a foreign worker (one page script registered under a narrower scope)
   * controls this page, it keeps doing so after it is unregistered until the
   * page navigates. `'reload'` (the default) reloads the page once to let the
   * broker take over; `'reject'` rejects with `foreign_worker` instead.
   */
  onForeignWorker?: 'reload' | 'reject';
}

export interface SessionEvent<C extends Record<string, unknown> = Record<string, unknown>> {
  reason: SessionChangeReason;
  session: Session<C>;
}

/** The claims of a session, unless the app names them: `registerTokenBroker<{ sub: string; name: string }>()`. */
export type Claims = Record<string, unknown>;

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => TokenBrokerError): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function isSessionBroadcast(data: unknown): data is SessionBroadcast {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === MessageType.session;
}

/**
 * The page's handle on the worker. An interface, so that every entry point's
 * declarations (this one, `token-broker/react`) describe the same type.
 */
export interface TokenBroker<C extends Claims = Claims> {
  login(credentials: Credentials): Promise<Session<C>>;
  logout(): Promise<Session<C>>;
  /** The current session; restores it silently with the refresh cookie when the worker has none. */
  status(): Promise<Session<C>>;
  /** The session as the worker knows it now, without a refresh; rejects when the worker cannot work (`bad_config`). */
  ping(): Promise<Session<C>>;
  /** Forces a refresh now. */
  refresh(): Promise<Session<C>>;
  /**
   * Redirect sign-in (token-broker/server/oidc): leaves for the server's start route, which
   * sends the browser to the identity provider; it comes back to `returnTo` (a path of this
   * origin, by default this page) signed in, or with `signInError` set. A worker with DPoP
   * starts it with its key's proof (its `endpoints.signIn`), so the session is bound to that key;
   * `startPath` is the route a worker without DPoP leaves for.
   */
  signIn(options?: { returnTo?: string; startPath?: string }): void;
  /** The stable code of the redirect sign-in that brought this page here and failed (README, "Redirect sign-in"); null otherwise. */
  readonly signInError: string | null;
  /** Leaves cleanly: see `BrokerClient.unregister`. */
  unregister(options?: { signOut?: boolean }): Promise<boolean>;
  /** Called on every session change, from this tab or any other. Returns an unsubscribe function. */
  onSessionChange(listener: (event: SessionEvent<C>) => void): () => void;
}

/**
 * Browsers stop a worker after about 30 s without an event, and in memory mode
 * the next call then waits for a silent refresh. A message from a page is an
 * event: each page nudges its broker every 20 s (no reply port, so the worker
 * does nothing with it). Hidden pages too: they still make API calls. A page
 * that no broker controls sends nothing. One timer per page, however many
 * clients it makes (a React provider that remounts makes one each time).
 */
const beating: string[] = [];
let heartbeat: ReturnType<typeof setInterval> | undefined;

function startHeartbeat(scriptURL: string): void {
  beating.push(scriptURL);
  heartbeat ??= setInterval(() => {
    const c = navigator.serviceWorker.controller;
    if (c && beating.includes(c.scriptURL)) c.postMessage({ type: MessageType.ping });
  }, 20_000);
}

function stopHeartbeat(scriptURL: string): void {
  const i = beating.indexOf(scriptURL);
  if (i >= 0) beating.splice(i, 1);
  if (!beating.length) {
    clearInterval(heartbeat);
    heartbeat = undefined;
  }
}

class BrokerClient<C extends Claims = Claims> implements TokenBroker<C> {
  readonly #listeners = new Set<(event: SessionEvent<C>) => void>();
  signInError: string | null = null;

  readonly #registration: ServiceWorkerRegistration;
  readonly #timeoutMs: number;
  /** The absolute URL of the broker's script: any other controller is foreign. */
  readonly #scriptURL: string;

  constructor(registration: ServiceWorkerRegistration, timeoutMs: number, scriptURL: string) {
    this.#registration = registration;
    this.#timeoutMs = timeoutMs;
    this.#scriptURL = scriptURL;
    navigator.serviceWorker.addEventListener('message', (event) => {
      if (!isSessionBroadcast(event.data)) return;
      const { reason, session } = event.data;
      for (const l of this.#listeners) l({ reason, session: session as Session<C> });
    });
    // Messages posted before a listener existed are queued until this call.
    navigator.serviceWorker.startMessages();
    // While the refresh endpoint is down the worker spaces its attempts out; a user who
    // comes back (the tab shown again, the network back) gets one at once.
    const resume = () => void this.#send({ type: MessageType.resume }).catch(() => undefined);
    addEventListener('online', resume);
    document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && resume());
    startHeartbeat(scriptURL);
  }

  login(credentials: Credentials): Promise<Session<C>> {
    // API calls from this page go through its controller: signing in while
    // another worker controls it would hand the session to that worker.
    const controller = navigator.serviceWorker.controller;
    if (controller && controller.scriptURL !== this.#scriptURL) {
      return Promise.reject(
        new TokenBrokerError('foreign_worker', `Not signing in: ${controller.scriptURL} controls this page, not ${this.#scriptURL}. Reload the page.`),
      );
    }
    return this.#send({ type: MessageType.login, credentials });
  }

  logout(): Promise<Session<C>> {
    return this.#send({ type: MessageType.logout });
  }

  /** The current session; restores it silently with the refresh cookie when the worker has none. */
  status(): Promise<Session<C>> {
    return this.#send({ type: MessageType.status });
  }

  /** The session as the worker knows it now, without a refresh; rejects when the worker cannot work (`bad_config`). */
  ping(): Promise<Session<C>> {
    return this.#send({ type: MessageType.ping });
  }

  /** Forces a refresh now. */
  refresh(): Promise<Session<C>> {
    return this.#send({ type: MessageType.refresh });
  }

  signIn({ returnTo = location.pathname + location.search + location.hash, startPath = '/auth/oidc/start' }: { returnTo?: string; startPath?: string } = {}): void {
    void this.#ask({ type: MessageType.signIn, returnTo }).then(
      (reply) => location.assign((reply as { location: string }).location),
      () => location.assign(`${startPath}?returnTo=${encodeURIComponent(returnTo)}`),
    );
  }

  /**
   * Takes the redirect sign-in's outcome off the page's URL (so a reload or a shared link does not
   * repeat it) and, after a sign-in, has the worker ask the server past its signed-out marker.
   */
  async takeSignIn(): Promise<void> {
    const url = new URL(location.href);
    const hinted = url.searchParams.has(SIGN_IN_PARAM);
    this.signInError = url.searchParams.get(SIGN_IN_ERROR_PARAM);
    if (!hinted && this.signInError === null) return;
    url.searchParams.delete(SIGN_IN_PARAM);
    url.searchParams.delete(SIGN_IN_ERROR_PARAM);
    history.replaceState(history.state, '', url);
    if (hinted) await this.#send({ type: MessageType.signedIn }).catch(() => undefined);
  }

  /**
   * Leaves cleanly: signs out (revoking the session on the server) unless
   * `signOut` is false, removes the worker's registration and deletes its
   * IndexedDB database (once the worker, which keeps running while it
   * controls open pages, has stopped). Resolves whether the registration was
   * removed. Other tabs keep the worker until they close or reload.
   */
  async unregister({ signOut = true }: { signOut?: boolean } = {}): Promise<boolean> {
    if (signOut) await this.logout().catch(() => undefined);
    // Let the worker stop, so that the database below can go.
    stopHeartbeat(this.#scriptURL);
    const removed = await this.#registration.unregister();
    // The worker may still hold the database open: the delete then waits for it to stop; this does not.
    await new Promise<void>((resolve) => {
      const request = indexedDB.deleteDatabase('token-broker');
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
    return removed;
  }

  /** Called on every session change, from this tab or any other. Returns an unsubscribe function. */
  onSessionChange(listener: (event: SessionEvent<C>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The worker that controls the page now: after an update it is not the one registered first. */
  #worker(type: string): ServiceWorker {
    const controller = navigator.serviceWorker.controller;
    // Never a foreign controller: it would receive the credentials.
    const sw = controller?.scriptURL === this.#scriptURL ? controller : this.#registration.active;
    if (!sw) throw new TokenBrokerError('not_controlled', `No active broker worker for ${type}: it was unregistered. Call registerTokenBroker() again.`);
    return sw;
  }

  async #send(message: BrokerRequest): Promise<Session<C>> {
    return ((await this.#ask(message)) as { session: Session<C> }).session;
  }

  async #ask(message: BrokerRequest): Promise<BrokerReply> {
    const reply = (await withTimeout(
      messageSW(this.#worker(message.type), message) as Promise<BrokerReply>,
      this.#timeoutMs,
      () => new TokenBrokerError('timeout', `No answer to ${message.type} within ${this.#timeoutMs} ms: is the registered script the token broker?`),
    )) as BrokerReply | undefined;
    if (!reply || typeof reply !== 'object' || !('ok' in reply)) {
      throw new TokenBrokerError('internal', `Unexpected reply to ${message.type}: the worker at this scope is not the token broker.`);
    }
    if (!reply.ok) throw new TokenBrokerError(reply.error.code, reply.error.message);
    return reply;
  }
}

/**
 * Unregisters every other registration under the broker's scope. Page script
 * (an injected script that ran once) can register any script of the origin
 * under a narrower scope, which the browser then prefers for the pages it
 * covers; such a registration outlives the script and the browser session.
 */
async function removeForeignRegistrations(ours: ServiceWorkerRegistration): Promise<number> {
  const all = await navigator.serviceWorker.getRegistrations();
  const foreign = all.filter((r) => r.scope !== ours.scope && r.scope.startsWith(ours.scope));
  await Promise.all(foreign.map((r) => r.unregister().catch(() => false)));
  return foreign.length;
}

const RELOADED_KEY = 'token-broker:foreign-worker-reload';

/**
 * A page keeps the controller it had, even one whose registration is gone, and
 * no claim() can take it: only a navigation can. Reloads once; a second time
 * within a minute (script that registers its worker on every load) rejects.
 */
function reloadAwayFrom(controller: ServiceWorker, scriptURL: string): Promise<never> {
  let reload = false;
  try {
    reload = Date.now() - (Number(sessionStorage.getItem(RELOADED_KEY)) || 0) > 60_000;
    if (reload) sessionStorage.setItem(RELOADED_KEY, String(Date.now()));
  } catch {
    // No sessionStorage: never risk a reload loop.
  }
  if (!reload) return Promise.reject(foreignWorker(controller, scriptURL));
  location.reload();
  return new Promise<never>(() => undefined);
}

function foreignWorker(controller: ServiceWorker, scriptURL: string): TokenBrokerError {
  return new TokenBrokerError(
    'foreign_worker',
    `${controller.scriptURL} controls this page, not ${scriptURL}; it was unregistered. Reload the page.`,
  );
}

/** Resolves once the broker's script controls this page; a foreign controller is replaced by a claim. */
async function controlledBy(registration: ServiceWorkerRegistration, scriptURL: string, timeoutMs: number): Promise<void> {
  const container = navigator.serviceWorker;
  if (container.controller?.scriptURL === scriptURL) return;
  const controlled = new Promise<void>((resolve) => {
    const check = () => {
      if (container.controller?.scriptURL !== scriptURL) return;
      container.removeEventListener('controllerchange', check);
      resolve();
    };
    container.addEventListener('controllerchange', check);
  });
  // After a hard reload the active worker exists but skips this page, and a
  // foreign registration just removed still controls it: ask ours to claim the
  // page rather than reloading it. A first install claims by itself.
  const active = registration.active;
  if (active?.scriptURL === scriptURL) void messageSW(active, { type: MessageType.claim } satisfies BrokerRequest).catch(() => undefined);
  await withTimeout(controlled, timeoutMs, () => {
    const other = container.controller;
    return other
      ? foreignWorker(other, scriptURL)
      : new TokenBrokerError('not_controlled', `The worker does not control this page: after a hard reload, reload normally; or its scope ${registration.scope} does not cover it.`);
  });
}

/**
 * Registers the worker and resolves once it controls this page, so that the
 * next `fetch('/api/...')` goes through it. Other registrations under its
 * scope are removed: an origin with a broker has exactly one worker there.
 */
export async function registerTokenBroker<C extends Claims = Claims>(options: RegisterOptions = {}): Promise<TokenBroker<C>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (typeof navigator === 'undefined' || typeof location === 'undefined') {
    throw new TokenBrokerError('unsupported', 'registerTokenBroker() runs in the browser only: under server-side rendering, call it from an effect or onMounted.');
  }
  if (!('serviceWorker' in navigator)) {
    throw new TokenBrokerError(
      'unsupported',
      'No service workers here (unsupported, disabled, or not a secure context).',
    );
  }
  if ('config' in options) {
    throw new TokenBrokerError(
      'bad_config',
      'registerTokenBroker() takes no config: set it where the script is served (self.tokenBrokerConfig) or in installTokenBroker().',
    );
  }
  const url = options.scriptURL ?? '/sw.js';
  const scriptURL = new URL(url, location.href).href;
  // A worker controls only pages under its scope, by default the script's directory.
  const scope = new URL(options.scope ?? './', scriptURL).href;
  if (!location.href.startsWith(scope)) {
    throw new TokenBrokerError(
      'bad_scope',
      `${scriptURL} gets the scope ${scope}, which does not cover this page: copy the file to your site's root (not a bundler's asset URL), or allow a scope with Service-Worker-Allowed.`,
    );
  }
  const wb = new Workbox(url, { scope: options.scope, type: options.type });
  let registration: ServiceWorkerRegistration;
  try {
    registration = await withTimeout(
      wb.register({ immediate: true }).then((reg) => {
        if (!reg) throw new Error('registration returned nothing');
        return reg;
      }),
      timeoutMs,
      () => new TokenBrokerError('timeout', `Registering ${url} took over ${timeoutMs} ms: are service workers blocked here?`),
    );
  } catch (err) {
    if (err instanceof TokenBrokerError) throw err;
    throw new TokenBrokerError('registration_failed', `Could not register ${url}: ${(err as Error).message}. Check that the URL serves the script (200, JavaScript) from this origin, at or above the page's path, and that service workers are not blocked here.`);
  }
  const removed = await removeForeignRegistrations(registration);
  const controller = navigator.serviceWorker.controller;
  if (removed > 0 && controller && controller.scriptURL !== scriptURL) {
    if (options.onForeignWorker === 'reject') throw foreignWorker(controller, scriptURL);
    await reloadAwayFrom(controller, scriptURL);
  }
  await controlledBy(registration, scriptURL, timeoutMs);
  const broker = new BrokerClient<C>(registration, timeoutMs, scriptURL);
  // A worker that refused its configuration answers every message with bad_config and
  // intercepts nothing: say so now, not at the first sign-in after API calls went out bare.
  await broker.ping();
  await broker.takeSignIn();
  return broker;
}
