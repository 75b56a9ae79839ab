// The page side of the token broker: registers the worker through
// workbox-window, waits until the page is controlled, and wraps the message API
// in typed calls. It never sees a token: every reply is a Session.

import { messageSW, Workbox } from 'workbox-window';
import { configToSearchParams, type TokenBrokerConfig } from '../sw/config';
import {
  MessageType,
  type BrokerReply,
  type BrokerRequest,
  type Credentials,
  type ErrorCode,
  type Session,
  type SessionBroadcast,
  type SessionChangeReason,
} from '../sw/protocol';

export type { Session, SessionChangeReason, Credentials, ErrorCode, TokenBrokerConfig };

/** Codes only the client produces, on top of the worker's. */
export type ClientErrorCode = ErrorCode | 'unsupported' | 'registration_failed' | 'not_controlled' | 'timeout';

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
  /** Worker configuration, passed as search parameters of the script URL (standalone script only). */
  config?: TokenBrokerConfig;
  /** 'module' when your own worker is an ES module. */
  type?: WorkerType;
  /** How long to wait for the worker to control the page (default 10 s). */
  timeoutMs?: number;
}

export interface SessionEvent {
  reason: SessionChangeReason;
  session: Session;
}

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

export class TokenBroker {
  readonly #listeners = new Set<(event: SessionEvent) => void>();

  /** Use `registerTokenBroker()`; the constructor is for tests and custom setups. */
  readonly #registration: ServiceWorkerRegistration;
  readonly #timeoutMs: number;

  constructor(registration: ServiceWorkerRegistration, timeoutMs: number) {
    this.#registration = registration;
    this.#timeoutMs = timeoutMs;
    navigator.serviceWorker.addEventListener('message', (event) => {
      if (!isSessionBroadcast(event.data)) return;
      const { reason, session } = event.data;
      for (const l of this.#listeners) l({ reason, session });
    });
    // Messages posted before a listener existed are queued until this call.
    navigator.serviceWorker.startMessages();
  }

  login(credentials: Credentials): Promise<Session> {
    return this.#send({ type: MessageType.login, credentials });
  }

  logout(): Promise<Session> {
    return this.#send({ type: MessageType.logout });
  }

  /** The current session; restores it silently with the refresh cookie when the worker has none. */
  status(): Promise<Session> {
    return this.#send({ type: MessageType.status });
  }

  /** Forces a refresh now. */
  refresh(): Promise<Session> {
    return this.#send({ type: MessageType.refresh });
  }

  /** Called on every session change, from this tab or any other. Returns an unsubscribe function. */
  onSessionChange(listener: (event: SessionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The worker that controls the page now: after an update it is not the one registered first. */
  #worker(type: string): ServiceWorker {
    const sw = navigator.serviceWorker.controller ?? this.#registration.active;
    if (!sw) throw new TokenBrokerError('not_controlled', `No active token broker worker to send ${type} to: it was unregistered (by page script or the browser). Call registerTokenBroker() again.`);
    return sw;
  }

  async #send(message: BrokerRequest): Promise<Session> {
    const reply = (await withTimeout(
      messageSW(this.#worker(message.type), message) as Promise<BrokerReply>,
      this.#timeoutMs,
      () => new TokenBrokerError('timeout', `The token broker worker did not answer ${message.type} within ${this.#timeoutMs} ms. Is the registered script the token broker (sw.js, sw-dpop.js, or your worker calling installTokenBroker)?`),
    )) as BrokerReply | undefined;
    if (!reply || typeof reply !== 'object' || !('ok' in reply)) {
      throw new TokenBrokerError('internal', `Unexpected reply to ${message.type}: the worker at this scope is not the token broker. Register sw.js, or call installTokenBroker(self, config) in your own worker.`);
    }
    if (!reply.ok) throw new TokenBrokerError(reply.error.code, reply.error.message);
    return reply.session;
  }
}

function scriptUrlWithConfig(scriptURL: string, config: TokenBrokerConfig | undefined): string {
  if (!config) return scriptURL;
  const url = new URL(scriptURL, location.href);
  for (const [k, v] of configToSearchParams(config)) url.searchParams.set(k, v);
  return url.pathname + url.search;
}

/**
 * Registers the worker and resolves once it controls this page, so that the
 * next `fetch('/api/...')` goes through it.
 */
export async function registerTokenBroker(options: RegisterOptions = {}): Promise<TokenBroker> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!('serviceWorker' in navigator)) {
    throw new TokenBrokerError(
      'unsupported',
      'This browser has no service worker support (or it is disabled, e.g. in a private window or a non-secure context): the token broker cannot run.',
    );
  }
  const url = scriptUrlWithConfig(options.scriptURL ?? '/sw.js', options.config);
  const wb = new Workbox(url, { scope: options.scope, type: options.type });
  let registration: ServiceWorkerRegistration;
  try {
    registration = await withTimeout(
      wb.register({ immediate: true }).then((reg) => {
        if (!reg) throw new Error('registration returned nothing');
        return reg;
      }),
      timeoutMs,
      () => new TokenBrokerError('timeout', `Registering ${url} did not finish within ${timeoutMs} ms: service workers may be blocked here (browser setting, extension, enterprise policy), or the script is very slow to load.`),
    );
  } catch (err) {
    if (err instanceof TokenBrokerError) throw err;
    throw new TokenBrokerError('registration_failed', `Could not register the worker ${url}: ${(err as Error).message}. Check that the URL serves the script (200, a JavaScript content type) from this origin, at or above the page's path, and that service workers are not blocked here (browser setting, extension, enterprise policy).`);
  }
  if (!navigator.serviceWorker.controller) {
    const controlled = new Promise<void>((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
    );
    // After a hard reload the active worker exists but skips this page: ask it to
    // claim the page rather than reloading it. A first install claims by itself.
    const active = registration.active;
    if (active) void messageSW(active, { type: MessageType.claim } satisfies BrokerRequest).catch(() => undefined);
    await withTimeout(
      controlled,
      timeoutMs,
      () =>
        new TokenBrokerError(
          'not_controlled',
          'The worker is registered but does not control this page (a hard reload bypasses workers, or the scope does not cover this page). Reload normally.',
        ),
    );
  }
  return new TokenBroker(registration, timeoutMs);
}
